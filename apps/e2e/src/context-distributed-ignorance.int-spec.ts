/**
 * Scenario 1's "distributed ignorance" beat, end to end: context-graph runs as a real process on real Kafka and
 * Neo4j. Agent A (reviewing a deployment of X) records a fact; agent B (diagnosing latency on Y, which DEPENDS_ON X)
 * is told about it while its task is in flight, and finds it when it asks. Nobody wires A to B: A only publishes
 * on baton.context.facts, B's task is only known from the router's baton.workflow.events.
 */
import { randomUUID } from 'node:crypto';
import { KafkaBus } from '@baton/bus';
import { RawKafka } from '@baton/bus/testing';
import {
  type FactView,
  TOPICS,
  contextFactRecorded,
  contextQueryRequested,
  contextUpdated,
  createEnvelope,
  parseEnvelope,
  stepDispatched,
} from '@baton/contracts';
import { clearNeo4jPrefix, expectEventually, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { spawnContextGraph } from './runner-fixture';

const API_KEY = 'e2e-context-key-0123456789abcdef';

describe('context graph: distributed ignorance, end to end', () => {
  const infra = testInfra();
  const topicPrefix = `${uniqueName('e2ecg')}.`;
  const bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-context', topicPrefix });
  const raw = new RawKafka(infra.kafka.brokers);
  let graph: SpawnedApp;

  beforeAll(async () => {
    graph = await spawnContextGraph(infra, topicPrefix, API_KEY);
    await bus.connect();
  }, 120_000);

  afterAll(async () => {
    await graph?.stop();
    await bus.disconnect();
    await raw.close();
    await clearNeo4jPrefix(topicPrefix, { property: 'uid', infra });
  });

  it('agent B, diagnosing Y, sees the fact agent A recorded about X, which Y depends on', async () => {
    const tag = randomUUID().slice(0, 8);
    const x = { kind: 'Service', id: `payments-db-proxy-${tag}` };
    const y = { kind: 'Service', id: `checkout-api-${tag}` };
    const workflowA = randomUUID();
    const workflowB = randomUUID();
    const taskB = randomUUID();

    // The topology is known to the organisation (a system or some earlier agent recorded it).
    await bus.publish(
      contextFactRecorded,
      createEnvelope(
        contextFactRecorded,
        { about: y, relationship: { type: 'DEPENDS_ON', to: x }, confidence: 1, scopes: [] },
        { source: 'cmdb', correlationId: 'cmdb' },
      ),
    );
    // B's diagnosis step is dispatched by the router; its input names what it is about.
    await bus.publish(
      stepDispatched,
      createEnvelope(
        stepDispatched,
        {
          workflowId: workflowB,
          stepId: 'diagnose',
          taskId: taskB,
          attempt: 1,
          capability: 'diagnosis',
          input: { entities: [y], symptom: 'p95 latency x3' },
        },
        { source: 'router', correlationId: workflowB, workflowId: workflowB },
      ),
    );
    // B's task is in flight once its neighbourhood shows the dependency it will be told about.
    await expectEventually(async () => {
      const response = await fetch(`${graph.baseUrl}/entities/Service:${y.id}/neighbourhood?hops=1`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(response.status).toBe(200);
    });

    // A, reviewing the deployment of X, records what it found. It knows nothing of B.
    const finding = createEnvelope(
      contextFactRecorded,
      {
        about: x,
        attribute: 'connection-pool.size',
        value: { from: 50, to: 5 },
        text: 'deployment changed the connection-pool size',
        confidence: 0.92,
        scopes: [],
      },
      {
        source: 'agent-runner',
        correlationId: workflowA,
        workflowId: workflowA,
        agentId: 'security-reviewer',
      },
    );
    // Published until B's task is known to context-graph (the dispatch and the fact travel on different topics).
    await expectEventually(
      async () => {
        await bus.publish(contextFactRecorded, { ...finding, id: randomUUID() });
        const updates = await raw.readUntil(`${topicPrefix}${TOPICS.contextUpdates}`, (messages) => messages.length > 0, 3_000);
        const forB = updates
          .map((record) => parseEnvelope(TOPICS.contextUpdates, record.value).envelope)
          .filter((envelope) => envelope.type === contextUpdated.type && (envelope.payload as { taskId: string }).taskId === taskB)
          .map((envelope) => envelope.payload as { entity: unknown; via: unknown; fact: FactView });
        expect(forB).toContainEqual(
          expect.objectContaining({
            entity: y,
            via: [x],
            fact: expect.objectContaining({
              about: x,
              attribute: 'connection-pool.size',
              provenance: expect.objectContaining({ agentId: 'security-reviewer', workflowId: workflowA }),
            }),
          }),
        );
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    // B asks about Y and what it depends on, and finds A's fact.
    const reply = await bus.request(
      contextQueryRequested,
      createEnvelope(
        contextQueryRequested,
        { query: { kind: 'recent', entity: y, windowMs: 3_600_000 }, scopes: [], caller: 'diagnostician' },
        { source: 'agent-runner', correlationId: workflowB, workflowId: workflowB, agentId: 'diagnostician' },
      ),
      { timeoutMs: 30_000 },
    );
    const answer = reply.envelope.payload as { ok: boolean; facts: FactView[] };
    expect(answer.ok).toBe(true);
    expect(answer.facts).toContainEqual(
      expect.objectContaining({ about: x, attribute: 'connection-pool.size', value: { from: 50, to: 5 } }),
    );

    // And what B read is in its workflow's export.
    const exported = await fetch(`${graph.baseUrl}/workflows/${workflowB}/context`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const body = (await exported.json()) as { read: { caller: string; factIds: string[] }[] };
    expect(body.read).toEqual([expect.objectContaining({ caller: 'diagnostician' })]);
    expect(body.read[0]?.factIds.length).toBeGreaterThan(0);
  });
});
