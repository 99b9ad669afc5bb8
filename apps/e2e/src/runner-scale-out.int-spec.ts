/**
 * Runner instances are interchangeable workers of one consumer group: two
 * runner processes with the same (built-in) agent definitions share the tasks,
 * and every task has one result (one result id, so a redelivery dedupes).
 */
import { randomUUID } from 'node:crypto';
import { KafkaBus, type Subscription } from '@baton/bus';
import { TOPICS, createEnvelope, taskAssigned, type Envelope } from '@baton/contracts';
import { expectEventually, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';

describe('agent runners scale out as one consumer group', () => {
  const infra = testInfra();
  const topicPrefix = `${uniqueName('e2e-scale')}.`;
  const results: Envelope[] = [];
  const runners: SpawnedApp[] = [];
  let bus: KafkaBus;
  let subscription: Subscription;

  beforeAll(async () => {
    bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-scale-observer', topicPrefix });
    await bus.connect();
    await bus.ensureTopics([TOPICS.tasksAssigned, TOPICS.tasksResults, TOPICS.agentHeartbeats]);
    subscription = await bus.subscribe({
      groupId: `observer-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      handler: async ({ envelope }) => void results.push(envelope),
    });
    const env = (instance: string) => ({
      KAFKA_BROKERS: infra.kafka.brokers.join(','),
      BATON_TOPIC_PREFIX: topicPrefix,
      RUNNER_INSTANCE_ID: instance,
    });
    const started = await Promise.allSettled(
      ['scale-a', 'scale-b'].map((instance) =>
        spawnApp({ name: `agent-runner-${instance}`, entry: 'apps/agent-runner/src/main.ts', env: env(instance) }).then(
          (app) => void runners.push(app),
        ),
      ),
    );
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  });

  afterAll(async () => {
    await Promise.allSettled([...runners.map((runner) => runner.stop()), subscription?.close()]);
    await bus?.disconnect();
  });

  it('shares tasks between the instances, with one result id per task', async () => {
    const sent: string[] = [];
    const instancesServing = (): Set<string> => new Set(results.map((result) => result.source));
    // Waves until both instances have served: the group rebalances once the second joins.
    await expectEventually(
      async () => {
        for (let i = 0; i < 12; i += 1) {
          const taskId = randomUUID();
          const workflowId = randomUUID();
          sent.push(taskId);
          await bus.publish(
            taskAssigned,
            createEnvelope(
              taskAssigned,
              {
                taskId,
                workflowId,
                stepId: 'scale',
                attempt: 1,
                capability: i % 2 ? 'analysis' : 'extraction',
                input: { i },
                timeoutMs: 60_000,
              },
              { source: 'e2e', correlationId: workflowId, workflowId },
            ),
          );
        }
        expect([...instancesServing()].sort()).toEqual(['agent-runner/scale-a', 'agent-runner/scale-b']);
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    await expectEventually(() => expect(new Set(results.map((r) => (r.payload as { taskId: string }).taskId)).size).toBe(sent.length), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    // At-least-once: a rebalance may redeliver, but a task has one result id, so the router dedupes.
    const idsPerTask = new Map<string, Set<string>>();
    for (const result of results) {
      const taskId = (result.payload as { taskId: string }).taskId;
      idsPerTask.set(taskId, (idsPerTask.get(taskId) ?? new Set()).add(result.id));
    }
    expect([...idsPerTask].filter(([, ids]) => ids.size !== 1)).toEqual([]);
    expect(results.filter((result) => result.type !== 'task.completed')).toEqual([]);
  });
});
