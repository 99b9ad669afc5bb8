/**
 * A runner asked to stop (SIGTERM) takes no new task and finishes what it
 * holds, publishing every result before it exits: including a task that was
 * waiting for its agent's only slot when the stop began, and so started
 * during the drain.
 */
import { randomUUID } from 'node:crypto';
import { KafkaBus, type Subscription } from '@baton/bus';
import { TOPICS, createEnvelope, taskAssigned, type Envelope } from '@baton/contracts';
import { FakeModelServer, openAiText } from '@baton/llm-gateway/testing';
import { expectEventually, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { writeRunnerFixture } from './runner-fixture';

const AGENT = `
id: one-slot
team: sre
capabilities: [summarise]
scopes: []
model: gpt
systemPrompt: Summarise. Answer JSON only.
promptTemplate: "Summarise {{input.text}}"
outputSchema: { type: object, required: [summary] }
confidence: { from: fixed, value: 0.8 }
maxConcurrency: 1
`;

describe('agent-runner drain on SIGTERM', () => {
  const infra = testInfra();
  const topicPrefix = `${uniqueName('e2e-drain')}.`;
  const models = new FakeModelServer();
  const results: Envelope[] = [];
  let runner: SpawnedApp | undefined;
  let bus: KafkaBus;
  let subscription: Subscription;

  beforeAll(async () => {
    await models.start();
    models.setDefault('openai', () => ({ ...openAiText('{"summary":"done"}'), delayMs: 1_000 }));
    const fixture = writeRunnerFixture({
      agents: { 'one-slot.yaml': AGENT },
      openAiBaseUrl: models.openAiBaseUrl,
      alias: 'gpt',
      model: 'gpt-test',
    });
    bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-drain-observer', topicPrefix });
    await bus.connect();
    await bus.ensureTopics([TOPICS.tasksAssigned, TOPICS.tasksResults, TOPICS.agentHeartbeats]);
    subscription = await bus.subscribe({
      groupId: `observer-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      handler: async ({ envelope }) => void results.push(envelope),
    });
    runner = await spawnApp({
      name: 'agent-runner-drain',
      entry: 'apps/agent-runner/src/main.ts',
      env: {
        KAFKA_BROKERS: infra.kafka.brokers.join(','),
        BATON_TOPIC_PREFIX: topicPrefix,
        RUNNER_AGENTS_DIR: fixture.agentsDir,
        BATON_GATEWAY_CONFIG: fixture.gatewayConfig,
      },
    });
  });

  afterAll(async () => {
    await Promise.allSettled([runner?.stop(), subscription?.close()]);
    await Promise.allSettled([bus?.disconnect(), models.stop()]);
  });

  it('publishes the result of the running task and of the one waiting for its slot, then exits', async () => {
    // One workflow key: both tasks on one partition, the second behind the first's slot.
    const workflowId = randomUUID();
    const tasks = ['first', 'second'].map((text) => ({ taskId: randomUUID(), text }));
    for (const { taskId, text } of tasks) {
      await bus.publish(
        taskAssigned,
        createEnvelope(
          taskAssigned,
          {
            taskId,
            workflowId,
            stepId: text,
            attempt: 1,
            capability: 'summarise',
            agentId: 'one-slot',
            input: { text },
            timeoutMs: 30_000,
          },
          { source: 'e2e', correlationId: workflowId, workflowId, stepId: text },
        ),
      );
    }
    await expectEventually(() => expect(models.requestsFor('openai')).toHaveLength(1));

    await runner?.stop();
    // Nest re-raises the signal once its shutdown hooks are done.
    expect(runner?.exitStatus()).toBe('signal SIGTERM');
    await expectEventually(() =>
      expect(tasks.map(({ taskId }) => results.find((result) => (result.payload as { taskId?: string }).taskId === taskId)?.type)).toEqual([
        'task.completed',
        'task.completed',
      ]),
    );
    expect(models.requestsFor('openai')).toHaveLength(2);
  }, 60_000);
});
