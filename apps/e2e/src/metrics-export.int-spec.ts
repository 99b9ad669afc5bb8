/**
 * The metrics of DESIGN's observability section, as an operator's collector
 * receives them: router and agent-runner run as real processes on real Kafka
 * and Postgres, export OTLP/HTTP (JSON) to a real HTTP server standing in for
 * the collector, and a workflow's steps, its duration, the model spend, the
 * consumers' lag and a dead-lettered message show up in what they export.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RawKafka } from '@baton/bus/testing';
import { TOPICS } from '@baton/contracts';
import { FakeModelServer, openAiText } from '@baton/llm-gateway/testing';
import { dropTestSchema, expectEventually, freePort, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { agentsAnnounced } from './router-agents-ready';
import { writeRunnerFixture } from './runner-fixture';

const API_KEY = 'e2e-metrics-key-0123456789abcdef';

/** OTLP/JSON as the exporters send it (the fields these checks read). */
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number };
}
interface OtlpPoint {
  attributes?: OtlpAttribute[];
  asInt?: number | string;
  asDouble?: number;
  count?: number | string;
  sum?: number;
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: OtlpPoint[] };
  gauge?: { dataPoints: OtlpPoint[] };
  histogram?: { dataPoints: OtlpPoint[] };
}
interface OtlpExport {
  resourceMetrics: Array<{ resource: { attributes: OtlpAttribute[] }; scopeMetrics: Array<{ metrics: OtlpMetric[] }> }>;
}

interface Point {
  service: string;
  unit: string | undefined;
  attributes: Record<string, string>;
  /** Counter sum or gauge value. */
  value: number;
  /** Histograms. */
  count: number;
  sum: number;
}

function attributesOf(list: readonly OtlpAttribute[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, String(value.stringValue ?? value.intValue ?? value.doubleValue)]));
}

/** A fake collector: every OTLP metrics export it receives, as data points. */
class MetricsCollector {
  private server: Server | undefined;
  private readonly exports: OtlpExport[] = [];

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/v1/metrics') this.exports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The points of `name` in each service's latest export that has it (temporality is cumulative: the latest holds the totals). */
  latest(name: string): Point[] {
    const byService = new Map<string, Point[]>();
    for (const exported of this.exports) {
      for (const { resource, scopeMetrics } of exported.resourceMetrics) {
        const service = attributesOf(resource.attributes)['service.name'] ?? 'unknown';
        const points = scopeMetrics
          .flatMap((scope) => scope.metrics)
          .filter((metric) => metric.name === name)
          .flatMap((metric) =>
            (metric.sum ?? metric.gauge ?? metric.histogram)?.dataPoints.map((point) => ({
              service,
              unit: metric.unit,
              attributes: attributesOf(point.attributes),
              value: Number(point.asDouble ?? point.asInt ?? Number.NaN),
              count: Number(point.count ?? 0),
              sum: Number(point.sum ?? 0),
            })) ?? [],
          );
        if (points.length > 0) byService.set(service, points);
      }
    }
    return [...byService.values()].flat();
  }
}

describe('metrics export, end to end', () => {
  const infra = testInfra();
  const routerSchema = uniqueName('router_metrics').replace(/[^a-z0-9_]/g, '_');
  const topicPrefix = `${uniqueName('e2e-metrics')}.`;
  const collector = new MetricsCollector();
  const models = new FakeModelServer();
  let router: SpawnedApp;
  let runner: SpawnedApp;
  let raw: RawKafka;

  beforeAll(async () => {
    const endpoint = await collector.start();
    await models.start();
    // 1,000 tokens in and 100 out per call at $2 per million tokens: $0.0022 a call.
    models.setDefault('openai', () => openAiText('{"severity":"low"}', { input: 1_000, output: 100 }));
    const fixture = writeRunnerFixture({
      agents: {
        'triager.yaml': `
id: metrics-triager
team: sre
capabilities: [metrics-triage]
scopes: [public]
model: gpt
systemPrompt: You triage. Answer JSON only.
outputSchema: { type: object, required: [severity] }
confidence: { from: fixed, value: 0.9 }
maxConcurrency: 4
`,
      },
      openAiBaseUrl: models.openAiBaseUrl,
      alias: 'gpt',
      model: 'gpt-metrics',
      usdPer1M: 2,
    });
    const common = {
      KAFKA_BROKERS: infra.kafka.brokers.join(','),
      BATON_TOPIC_PREFIX: topicPrefix,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
    };
    const [routerPort, runnerPort] = [await freePort(), await freePort()];
    const started = await Promise.allSettled([
      spawnApp({
        name: 'router',
        entry: 'apps/router/src/main.ts',
        port: routerPort,
        env: {
          ...common,
          ROUTER_PORT: String(routerPort),
          DATABASE_URL: infra.postgres.url,
          ROUTER_DB_SCHEMA: routerSchema,
          BATON_API_KEYS: API_KEY,
        },
      }).then((app) => (router = app)),
      spawnApp({
        name: 'agent-runner',
        entry: 'apps/agent-runner/src/main.ts',
        port: runnerPort,
        env: {
          ...common,
          RUNNER_PORT: String(runnerPort),
          RUNNER_AGENTS_DIR: fixture.agentsDir,
          BATON_GATEWAY_CONFIG: fixture.gatewayConfig,
          RUNNER_CONTEXT_TIMEOUT_MS: '500',
        },
      }).then((app) => (runner = app)),
    ]);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    raw = new RawKafka(infra.kafka.brokers);
    await agentsAnnounced(router.baseUrl, API_KEY, ['metrics-triage']);
  });

  afterAll(async () => {
    await Promise.allSettled([router?.stop(), runner?.stop(), raw?.close()]);
    await dropTestSchema(infra.postgres.url, routerSchema);
    await Promise.allSettled([collector.stop(), models.stop()]);
  });

  it("exports step and workflow durations, model spend, consumer lag and dead letters to the operator's collector", async () => {
    const response = await fetch(`${router.baseUrl}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({
        definition: {
          name: 'metrics-check',
          pattern: 'sequential',
          steps: [
            { id: 'first', capability: 'metrics-triage' },
            { id: 'second', capability: 'metrics-triage' },
          ],
        },
        input: { incident: 'INC-7' },
      }),
    });
    expect(response.status).toBe(202);
    await raw.produce(`${topicPrefix}${TOPICS.tasksResults}`, [{ key: 'garbage', value: 'not an envelope' }]);

    await expectEventually(
      () => {
        const steps = collector.latest('baton.step.duration');
        expect(steps).toEqual([
          expect.objectContaining({
            service: 'router',
            unit: 's',
            attributes: { 'baton.capability': 'metrics-triage', 'baton.step.outcome': 'completed' },
            count: 2,
          }),
        ]);
        // Each step waited for a model call and two Kafka hops: more than nothing, far less than a minute.
        expect(steps[0]!.sum).toBeGreaterThan(0);
        expect(steps[0]!.sum).toBeLessThan(60);

        const workflows = collector.latest('baton.workflow.duration');
        expect(workflows).toEqual([
          expect.objectContaining({
            service: 'router',
            attributes: { 'baton.workflow.pattern': 'sequential', 'baton.workflow.status': 'completed' },
            count: 1,
          }),
        ]);
        // A workflow lasts at least as long as its steps.
        expect(workflows[0]!.sum).toBeGreaterThanOrEqual(steps[0]!.sum);

        const model = { 'gen_ai.request.model': 'oai/gpt-metrics', 'baton.agent.id': 'metrics-triager', 'baton.agent.team': 'sre' };
        const cost = collector.latest('baton.llm.cost');
        expect(cost).toEqual([expect.objectContaining({ service: 'agent-runner', unit: 'USD', attributes: model })]);
        expect(cost[0]!.value).toBeCloseTo(0.0044, 9);
        const tokens = collector.latest('baton.llm.tokens').map((point) => [point.attributes['gen_ai.token.type'], point.value]);
        expect(tokens.sort()).toEqual([
          ['input', 2_000],
          ['output', 200],
        ]);

        const deadLettered = collector.latest('baton.consumer.dead_lettered');
        expect(deadLettered).toEqual([
          expect.objectContaining({
            service: 'router',
            attributes: expect.objectContaining({ 'messaging.destination.name': `${topicPrefix}${TOPICS.tasksResults}` }),
            value: 1,
          }),
        ]);

        // Both services report the lag of what they consume; everything here was handled, so it is back to zero.
        const lag = collector.latest('baton.consumer.lag');
        const resultsLag = lag.filter(
          (point) => point.service === 'router' && point.attributes['messaging.destination.name'] === `${topicPrefix}${TOPICS.tasksResults}`,
        );
        expect(resultsLag.length).toBeGreaterThan(0);
        expect(resultsLag.every((point) => point.value === 0)).toBe(true);
        expect(lag.some((point) => point.service === 'agent-runner' && point.attributes['messaging.destination.name'] === `${topicPrefix}${TOPICS.tasksAssigned}`)).toBe(true);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });
});
