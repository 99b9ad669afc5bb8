/**
 * Context at dispatch (issue 5, point 6), end to end on the real context-graph and runner processes: a task whose
 * input names an entity gets, before its first model call, the facts recorded earlier about that entity and about
 * what it DEPENDS_ON, read with its agent's scopes. What reaches the model (a real HTTP server) is checked, and the
 * fact ids the runner reports on task.completed.
 */
import { randomUUID } from 'node:crypto';
import { KafkaBus, type Subscription } from '@baton/bus';
import {
  TOPICS,
  contextFactRecorded,
  contextQueryAnswered,
  contextQueryRequested,
  createEnvelope,
  taskAssigned,
  type Envelope,
  type FactBody,
  type JsonValue,
} from '@baton/contracts';
import { FakeModelServer, openAiText } from '@baton/llm-gateway/testing';
import { clearNeo4jPrefix, expectEventually, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { spawnContextGraph, writeRunnerFixture } from './runner-fixture';

type AnyEnvelope = Envelope<Record<string, JsonValue>>;

const agent = (id: string, capability: string, promptTemplate: string): string => `
id: ${id}
team: sre
capabilities: [${capability}]
scopes: [public, incidents]
model: gpt
systemPrompt: You diagnose latency. Answer JSON only.
promptTemplate: ${JSON.stringify(promptTemplate)}
outputSchema: { type: object, required: [diagnosis] }
confidence: { from: fixed, value: 0.8 }
maxConcurrency: 2
`;

describe('context injected at dispatch, end to end', () => {
  const infra = testInfra();
  const topicPrefix = `${uniqueName('e2e-inject')}.`;
  const models = new FakeModelServer();
  const results: AnyEnvelope[] = [];
  let runner: SpawnedApp;
  let graph: SpawnedApp;
  let bus: KafkaBus;
  let subscription: Subscription;

  beforeAll(async () => {
    await models.start();
    models.setDefault('openai', () => openAiText('{"diagnosis":"pool too small"}'));
    const fixture = writeRunnerFixture({
      // One agent places the context itself, the other leaves it to the runner.
      agents: {
        'placed.yaml': agent('placed-diagnoser', 'diagnosis-placed', 'Known context:\n{{context}}\nDiagnose {{input.symptom}}'),
        'appended.yaml': agent('appended-diagnoser', 'diagnosis-appended', 'Diagnose {{input.symptom}}'),
      },
      openAiBaseUrl: models.openAiBaseUrl,
      alias: 'gpt',
      model: 'gpt-test',
    });
    const common = { KAFKA_BROKERS: infra.kafka.brokers.join(','), BATON_TOPIC_PREFIX: topicPrefix };
    bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-inject-observer', topicPrefix });
    await bus.connect();
    await bus.ensureTopics([TOPICS.tasksAssigned, TOPICS.tasksResults, TOPICS.contextFacts, TOPICS.contextQueries]);
    subscription = await bus.subscribe({
      groupId: `observer-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      handler: async ({ envelope }) => void results.push(envelope as AnyEnvelope),
    });
    // Each assigned as soon as it runs, so afterAll stops it even when the other failed to start.
    const started = await Promise.allSettled([
      spawnContextGraph(infra, topicPrefix, 'e2e-inject-key-0123456789abcdef').then((app) => (graph = app)),
      spawnApp({
        name: 'agent-runner',
        entry: 'apps/agent-runner/src/main.ts',
        env: {
          ...common,
          RUNNER_AGENTS_DIR: fixture.agentsDir,
          BATON_GATEWAY_CONFIG: fixture.gatewayConfig,
          RUNNER_CONTEXT_TIMEOUT_MS: '5000',
        },
      }).then((app) => (runner = app)),
    ]);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  });

  afterAll(async () => {
    await Promise.allSettled([runner?.stop(), graph?.stop(), subscription?.close()]);
    await Promise.allSettled([bus?.disconnect(), models.stop()]);
    await clearNeo4jPrefix(topicPrefix, { property: 'uid', infra });
  });

  it('gives the model the facts about the task entity and what it depends on, never one outside its scopes', async () => {
    const tag = randomUUID().slice(0, 8);
    const checkout = { kind: 'Service', id: `checkout-api-${tag}` };
    const proxy = { kind: 'Service', id: `payments-db-proxy-${tag}` };
    const record = async (fact: FactBody, agentId?: string): Promise<string> => {
      const envelope = createEnvelope(contextFactRecorded, fact, {
        source: 'e2e-seed',
        correlationId: 'seed',
        ...(agentId ? { agentId } : {}),
      });
      await bus.publish(contextFactRecorded, envelope);
      return envelope.id;
    };
    const dependency = await record({ about: checkout, relationship: { type: 'DEPENDS_ON', to: proxy }, confidence: 1, scopes: [] });
    const owner = await record({ about: checkout, attribute: 'owner', value: 'payments-team', confidence: 0.9, scopes: [] });
    const pool = await record(
      {
        about: proxy,
        attribute: 'connection-pool.size',
        value: { from: 50, to: 5 },
        text: 'deployment shrank the pool',
        confidence: 0.92,
        scopes: [],
      },
      'security-reviewer',
    );
    const secret = await record({
      about: checkout,
      attribute: 'top-customers',
      value: ['ACME', 'Globex'],
      confidence: 0.9,
      scopes: ['customer-data'],
    });

    // The graph has ingested all four (read here with customer-data, which the agents lack).
    await expectEventually(
      async () => {
        const reply = await bus.request(
          contextQueryRequested,
          createEnvelope(
            contextQueryRequested,
            {
              query: { kind: 'changed', entity: checkout, since: new Date(0).toISOString(), hops: 2 },
              scopes: ['customer-data'],
              caller: 'e2e',
            },
            { source: 'e2e', correlationId: 'check' },
          ),
          { timeoutMs: 10_000 },
        );
        const ids = contextQueryAnswered.payload.parse(reply.envelope.payload).facts.map((fact) => fact.id);
        expect(ids.sort()).toEqual([dependency, owner, pool, secret].sort());
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    const assign = async (capability: string): Promise<string> => {
      const taskId = randomUUID();
      const workflowId = randomUUID();
      await bus.publish(
        taskAssigned,
        createEnvelope(
          taskAssigned,
          {
            taskId,
            workflowId,
            stepId: 'diagnose',
            attempt: 1,
            capability,
            input: { entities: [checkout], symptom: `p95 x3 ${tag}` },
            timeoutMs: 60_000,
          },
          { source: 'e2e', correlationId: workflowId, workflowId },
        ),
      );
      return taskId;
    };
    const placedTask = await assign('diagnosis-placed');
    const appendedTask = await assign('diagnosis-appended');
    const completed = await expectEventually(
      () => {
        const found = [placedTask, appendedTask].map((taskId) => results.find((result) => result.payload['taskId'] === taskId));
        expect(found.map((result) => result?.type)).toEqual(['task.completed', 'task.completed']);
        return found as AnyEnvelope[];
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );

    const visible = [owner, pool, dependency];
    for (const result of completed) {
      const attached = result.payload['contextFactIds'] as string[];
      expect([...attached].sort()).toEqual([...visible].sort());
      // Closer first: the facts about the task entity (hop 0) before the one about what it depends on.
      expect(attached.indexOf(pool)).toBe(2);
    }

    const prompts = models
      .requestsFor('openai')
      .map(
        (request) =>
          (request.body['messages'] as Array<{ role: string; content: string }>).find((message) => message.role === 'user')?.content ?? '',
      )
      .filter((content) => content.includes(tag));
    expect(prompts).toHaveLength(2);
    const placed = prompts.find((content) => content.startsWith('Known context:'))!;
    const appended = prompts.find((content) => content.startsWith('Diagnose'))!;
    expect(placed).toMatch(new RegExp(`^Known context:\\n.*\\nDiagnose p95 x3 ${tag}$`, 's'));
    expect(appended).toMatch(new RegExp(`^Diagnose p95 x3 ${tag}\\n\\nShared context: `));
    for (const prompt of [placed, appended]) {
      expect(prompt).toContain('payments-team');
      expect(prompt).toContain('connection-pool.size');
      expect(prompt).toContain(`DEPENDS_ON Service:${proxy.id}`);
      expect(prompt).toContain('"by":"security-reviewer"');
      expect(prompt).not.toContain('ACME');
      expect(prompt).not.toContain('top-customers');
      expect(prompt).not.toContain(secret);
    }
  });
});
