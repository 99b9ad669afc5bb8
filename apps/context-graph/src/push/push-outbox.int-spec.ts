/**
 * The push outbox across a crash: context-graph runs as a real process that SIGKILLs itself (CONTEXT_TEST_CRASH_AT)
 * right after a batch's facts and pushes committed, before anything was published. Without the outbox the push
 * would be gone: the redelivered fact already exists, so nothing would record it again.
 */
import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { KafkaBus } from '@baton/bus';
import { type EntityRef, TOPICS, contextFactRecorded, createEnvelope, stepDispatched } from '@baton/contracts';
import { clearNeo4jPrefix, expectEventually, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { deterministicUuid } from '../graph/deterministic-uuid';

const API_KEY = 'push-outbox-key-0123456789abcdef';

describe('push outbox: a crash between the facts commit and the publish', () => {
  const infra = testInfra();
  const prefix = `${uniqueName('cgpush')}.`;
  const bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'cg-push-test', topicPrefix: prefix });
  const driver = neo4j.driver(infra.neo4j.uri, neo4j.auth.basic(infra.neo4j.user, infra.neo4j.password), {
    disableLosslessIntegers: true,
  });
  const deliveries: { id: string; taskId: string; factId: string }[] = [];
  const apps: SpawnedApp[] = [];

  const start = (extraEnv: Record<string, string>): Promise<SpawnedApp> =>
    spawnApp({
      name: 'context-graph-push',
      entry: 'apps/context-graph/src/main.ts',
      env: {
        KAFKA_BROKERS: infra.kafka.brokers.join(','),
        NEO4J_URI: infra.neo4j.uri,
        NEO4J_USER: infra.neo4j.user,
        NEO4J_PASSWORD: infra.neo4j.password,
        BATON_TOPIC_PREFIX: prefix,
        BATON_API_KEYS: API_KEY,
        ...extraEnv,
      },
    }).then((app) => {
      apps.push(app);
      return app;
    });

  const count = async (cypher: string, params: Record<string, unknown>): Promise<number> =>
    Number((await driver.executeQuery(cypher, params)).records[0]?.get('n'));

  const fact = (about: EntityRef, body: Record<string, unknown>) =>
    createEnvelope(
      contextFactRecorded,
      { about, confidence: 0.9, scopes: [], ...body },
      { source: 'push-test', correlationId: 'push-test' },
    );

  beforeAll(async () => {
    await bus.connect();
    await bus.ensureTopics([TOPICS.contextFacts, TOPICS.contextUpdates, TOPICS.workflowEvents]);
    await bus.subscribe({
      groupId: `push-probe-${randomUUID()}`,
      topics: [TOPICS.contextUpdates],
      handler: async ({ envelope }) => {
        const payload = envelope.payload as { taskId: string; fact: { id: string } };
        deliveries.push({ id: envelope.id, taskId: payload.taskId, factId: payload.fact.id });
      },
    });
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await bus.disconnect();
    await clearNeo4jPrefix(prefix, { property: 'uid', infra });
    await driver.close();
  });

  it('publishes the push once the process is back, exactly once per envelope id', async () => {
    const tag = randomUUID().slice(0, 8);
    const x = { kind: 'Service', id: `db-proxy-${tag}` };
    const y = { kind: 'Service', id: `checkout-${tag}` };
    const workflowId = randomUUID();
    const taskId = randomUUID();

    // The poll is pushed far out: only the restart's first round, not a timer in the doomed process, may publish.
    const doomed = await start({
      CONTEXT_TEST_CRASH_AT: 'after-facts-commit',
      CONTEXT_PUSH_POLL_MS: '60000',
    });
    const topology = fact(y, { relationship: { type: 'DEPENDS_ON', to: x } });
    await bus.publish(contextFactRecorded, topology);
    await expectEventually(async () =>
      expect(await count('MATCH (f:Fact {uid: $uid}) RETURN count(f) AS n', { uid: `${prefix}|${topology.id}` })).toBe(1),
    );
    await bus.publish(
      stepDispatched,
      createEnvelope(
        stepDispatched,
        {
          workflowId,
          stepId: 'diagnose',
          taskId,
          attempt: 1,
          capability: 'diagnosis',
          input: { entities: [y] },
        },
        { source: 'router', correlationId: workflowId, workflowId },
      ),
    );
    await expectEventually(async () =>
      expect(await count('MATCH (t:Task {uid: $uid}) RETURN count(t) AS n', { uid: `${prefix}|task|${taskId}` })).toBe(1),
    );

    const finding = fact(x, { attribute: 'connection-pool.size', value: 5 });
    const pushId = deterministicUuid(`baton.context.updates|${finding.id}|${taskId}`);
    await bus.publish(contextFactRecorded, finding);
    await expectEventually(() => expect(doomed.exitStatus()).toBe('signal SIGKILL'), { timeoutMs: 30_000 });

    // Committed: the fact and its push are in the graph; nothing reached Kafka.
    expect(await count('MATCH (f:Fact {uid: $uid}) RETURN count(f) AS n', { uid: `${prefix}|${finding.id}` })).toBe(1);
    expect(
      await count('MATCH (p:PendingPush {uid: $uid}) RETURN count(p) AS n', {
        uid: `${prefix}|push|${pushId}`,
      }),
    ).toBe(1);
    expect(deliveries.filter((delivery) => delivery.id === pushId)).toEqual([]);

    await start({});
    await expectEventually(() => expect(deliveries.map((delivery) => delivery.id)).toContain(pushId), {
      timeoutMs: 30_000,
    });
    // A later push from the same partition (facts are keyed by entity) proves the redelivered batch was handled.
    const later = fact(x, { attribute: 'connection-pool.size', value: 6 });
    const laterId = deterministicUuid(`baton.context.updates|${later.id}|${taskId}`);
    await bus.publish(contextFactRecorded, later);
    await expectEventually(() => expect(deliveries.map((delivery) => delivery.id)).toContain(laterId), {
      timeoutMs: 30_000,
    });

    const ids = deliveries.map((delivery) => delivery.id);
    expect(ids.filter((id) => id === pushId)).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(deliveries.find((delivery) => delivery.id === pushId)).toEqual({
      id: pushId,
      taskId,
      factId: finding.id,
    });
    await expectEventually(async () =>
      expect(await count('MATCH (p:PendingPush) WHERE p.ns = $ns RETURN count(p) AS n', { ns: prefix })).toBe(0),
    );
  });
});
