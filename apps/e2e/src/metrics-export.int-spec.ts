/**
 * The metrics of DESIGN's observability section, as an operator's collector
 * receives them: router and agent-runner run as real processes on real Kafka
 * and Postgres, export OTLP/HTTP (JSON) to a real HTTP server standing in for
 * the collector, and a workflow's steps, its duration, the model spend, the
 * consumers' lag and a dead-lettered message show up in what they export.
 */
import { RawKafka } from '@baton/bus/testing';
import { TOPICS } from '@baton/contracts';
import { FakeModelServer, openAiText } from '@baton/llm-gateway/testing';
import { expectEventually, testInfra, type SpawnedApp } from '@baton/testing';
import { startRouterAndRunner, type RouterAndRunner } from './router-and-runner';
import { dashboardQueries, prometheusSeriesOf } from './observability-stack';
import { OtlpCollector } from './otlp-collector';
import { writeRunnerFixture } from './runner-fixture';

const API_KEY = 'e2e-metrics-key-0123456789abcdef';

describe('metrics export, end to end', () => {
  const infra = testInfra();
  const collector = new OtlpCollector();
  const models = new FakeModelServer();
  let services: RouterAndRunner;
  let router: SpawnedApp;
  let topicPrefix: string;
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
    services = await startRouterAndRunner(infra, {
      name: 'metrics',
      collectorUrl: endpoint,
      apiKey: API_KEY,
      runnerFixture: fixture,
      capabilities: ['metrics-triage'],
    });
    ({ router, topicPrefix } = services);
    raw = new RawKafka(infra.kafka.brokers);
  });

  afterAll(async () => {
    await Promise.allSettled([services?.stop(), raw?.close()]);
    await Promise.allSettled([collector.stop(), models.stop()]);
  });

  it("exports step and workflow durations, model spend, consumer lag and dead letters to the operator's collector, as the stack's dashboard queries them", async () => {
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
          (point) =>
            point.service === 'router' && point.attributes['messaging.destination.name'] === `${topicPrefix}${TOPICS.tasksResults}`,
        );
        expect(resultsLag.length).toBeGreaterThan(0);
        expect(resultsLag.every((point) => point.value === 0)).toBe(true);
        expect(
          lag.some(
            (point) =>
              point.service === 'agent-runner' &&
              point.attributes['messaging.destination.name'] === `${topicPrefix}${TOPICS.tasksAssigned}`,
          ),
        ).toBe(true);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    // The provisioned Grafana dashboard (docker-compose profile `observability`) asks Prometheus only for series the
    // collector makes of what the services export, grouped by labels those series carry (resource attributes such as
    // service.name become labels too).
    const exported = new Map(
      collector
        .catalog()
        .flatMap(({ name, kind, attributes }) => prometheusSeriesOf(name, kind, [...attributes, 'service.name']))
        .map(({ series, labels }) => [series, labels]),
    );
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(8);
    const problems = queries.flatMap(({ panel, metrics, labels }) => [
      ...(metrics.length === 0 ? [`${panel}: no baton_ metric`] : []),
      ...metrics.flatMap((metric) => {
        const labelsOf = exported.get(metric);
        if (!labelsOf) return [`${panel}: ${metric} is not exported`];
        return labels.filter((label) => !labelsOf.has(label)).map((label) => `${panel}: ${metric} has no label ${label}`);
      }),
    ]);
    expect(problems).toEqual([]);
  });
});
