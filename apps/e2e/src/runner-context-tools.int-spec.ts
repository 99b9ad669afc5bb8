/**
 * An agent's context tools against the real context-graph service: the model
 * (a real HTTP server speaking the OpenAI format) queries shared context and
 * publishes a fact through the runner's tools. Scopes are enforced by the
 * service that holds the data: the agent, without `customer-data`, never sees
 * such a fact however it asks (scenario 2).
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
  type JsonValue,
} from '@baton/contracts';
import { FakeModelServer, openAiText, openAiToolCalls } from '@baton/llm-gateway/testing';
import { expectEventually, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { spawnContextGraph, writeRunnerFixture } from './runner-fixture';

const AGENT = `
id: dependency-auditor
team: security
capabilities: [dependency-audit]
scopes: [public]
model: gpt
systemPrompt: You audit dependencies. Use the context tools, then answer JSON.
promptTemplate: "audit {{input.service}}"
tools: [query_context, publish_fact]
outputSchema: { type: object, required: [verdict] }
confidence: { from: fixed, value: 0.75 }
maxConcurrency: 2
`;

describe('agent context tools on the real context-graph, end to end', () => {
  const infra = testInfra();
  const topicPrefix = `${uniqueName('e2e-ctx')}.`;
  const models = new FakeModelServer();
  const results: Envelope[] = [];
  let runner: SpawnedApp;
  let graph: SpawnedApp;
  let bus: KafkaBus;
  let subscription: Subscription;

  beforeAll(async () => {
    await models.start();
    models.setDefault('openai', (body) => {
      const messages = body['messages'] as Array<{ role: string; content: string | null }>;
      const toolResults = messages.filter((message) => message.role === 'tool');
      if (toolResults.length === 0) {
        return openAiToolCalls([
          {
            id: 'q1',
            name: 'query_context',
            arguments: { kind: 'neighbourhood', entity: { kind: 'Service', id: 'checkout-api' }, hops: 1 },
          },
          {
            id: 'f1',
            name: 'publish_fact',
            arguments: { about: { kind: 'Service', id: 'checkout-api' }, attribute: 'audit-verdict', value: 'clean', confidence: 0.75 },
          },
        ]);
      }
      return openAiText('{"verdict":"clean"}');
    });
    const fixture = writeRunnerFixture({
      agents: { 'auditor.yaml': AGENT },
      openAiBaseUrl: models.openAiBaseUrl,
      alias: 'gpt',
      model: 'gpt-test',
    });
    const common = { KAFKA_BROKERS: infra.kafka.brokers.join(','), BATON_TOPIC_PREFIX: topicPrefix };
    bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-ctx-observer', topicPrefix });
    await bus.connect();
    await bus.ensureTopics([TOPICS.tasksAssigned, TOPICS.tasksResults, TOPICS.contextFacts, TOPICS.contextQueries, TOPICS.audit]);
    subscription = await bus.subscribe({
      groupId: `observer-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      handler: async ({ envelope }) => void results.push(envelope),
    });
    // Each assigned as soon as it runs, so afterAll stops it even when the other failed to start.
    const started = await Promise.allSettled([
      spawnContextGraph(infra, topicPrefix, 'e2e-ctx-key-0123456789abcdef').then((app) => (graph = app)),
      spawnApp({
        name: 'agent-runner',
        entry: 'apps/agent-runner/src/main.ts',
        env: { ...common, RUNNER_AGENTS_DIR: fixture.agentsDir, BATON_GATEWAY_CONFIG: fixture.gatewayConfig },
      }).then((app) => (runner = app)),
    ]);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  });

  afterAll(async () => {
    await Promise.allSettled([runner?.stop(), graph?.stop(), subscription?.close()]);
    await Promise.allSettled([bus?.disconnect(), models.stop()]);
  });

  const query = async (scopes: string[]): Promise<JsonValue[]> => {
    const workflowId = randomUUID();
    const reply = await bus.request(
      contextQueryRequested,
      createEnvelope(
        contextQueryRequested,
        { query: { kind: 'neighbourhood', entity: { kind: 'Service', id: 'checkout-api' }, hops: 1, limit: 50 }, scopes, caller: 'e2e' },
        { source: 'e2e', correlationId: workflowId, workflowId },
      ),
      { timeoutMs: 10_000 },
    );
    const answer = contextQueryAnswered.payload.parse(reply.envelope.payload);
    return answer.facts.map((fact) => ({ attribute: fact.attribute ?? null, agentId: fact.provenance.agentId ?? null }));
  };

  it('queries shared context within the agent scopes and publishes a fact with its provenance', async () => {
    const seed = async (attribute: string, value: JsonValue, scopes: string[]): Promise<void> => {
      const workflowId = randomUUID();
      await bus.publish(
        contextFactRecorded,
        createEnvelope(
          contextFactRecorded,
          { about: { kind: 'Service', id: 'checkout-api' }, attribute, value, confidence: 0.9, scopes },
          { source: 'e2e-seed', correlationId: workflowId },
        ),
      );
    };
    await seed('owner', 'payments-team', []);
    await seed('top-customers', ['ACME', 'Globex'], ['customer-data']);
    await expectEventually(async () => expect(await query(['customer-data'])).toHaveLength(2), { timeoutMs: 30_000, intervalMs: 200 });

    const taskId = randomUUID();
    const workflowId = randomUUID();
    await bus.publish(
      taskAssigned,
      createEnvelope(
        taskAssigned,
        {
          taskId,
          workflowId,
          stepId: 'audit',
          attempt: 1,
          capability: 'dependency-audit',
          input: { service: 'checkout-api' },
          timeoutMs: 60_000,
        },
        { source: 'e2e', correlationId: workflowId, workflowId },
      ),
    );
    await expectEventually(
      () => expect(results.find((result) => (result.payload as { taskId: string }).taskId === taskId)?.type).toBe('task.completed'),
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    );

    // What the model was given back: the unscoped fact, not the customer-data one.
    const followUp = models.requestsFor('openai').find((request) => JSON.stringify(request.body['messages']).includes('"role":"tool"'));
    const toolMessages = (followUp?.body['messages'] as Array<{ role: string; tool_call_id?: string; content: string }>).filter(
      (m) => m.role === 'tool',
    );
    const queried = toolMessages.find((message) => message.tool_call_id === 'q1')?.content ?? '';
    expect(queried).toContain('payments-team');
    expect(queried).not.toContain('ACME');
    expect(queried).not.toContain('top-customers');
    expect(toolMessages.find((message) => message.tool_call_id === 'f1')?.content).toContain('"recorded":true');

    // The published fact landed in the graph with the agent as provenance.
    await expectEventually(
      async () => expect(await query([])).toEqual(expect.arrayContaining([{ attribute: 'audit-verdict', agentId: 'dependency-auditor' }])),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });
});
