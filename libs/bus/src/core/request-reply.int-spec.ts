import { randomUUID } from 'node:crypto';
import { TOPICS, agentHeartbeat, causedBy, createEnvelope, taskAssigned, taskCompleted } from '@baton/contracts';
import { capturingLogger, taskAssignedEnvelope, uniquePrefix } from '../testing/bus-test-kit';
import { RequestTimeoutError } from './errors';
import { KafkaBus } from './kafka-bus';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter((broker) => broker !== '');
const prefix = uniquePrefix();
const requester = new KafkaBus({
  brokers,
  clientId: 'requester',
  topicPrefix: prefix,
  logger: capturingLogger(),
});
const responder = new KafkaBus({
  brokers,
  clientId: 'responder',
  topicPrefix: prefix,
  logger: capturingLogger(),
});

beforeAll(async () => {
  await Promise.all([requester.connect(), responder.connect()]);
  await responder.ensureTopics([TOPICS.tasksAssigned, TOPICS.agentHeartbeats]);
  await responder.subscribe({
    groupId: `responder-${randomUUID()}`,
    topics: [TOPICS.tasksAssigned],
    handler: async (request) => {
      const assigned = taskAssigned.payload.parse(request.envelope.payload);
      const answer = createEnvelope(
        taskCompleted,
        {
          taskId: assigned.taskId,
          workflowId: assigned.workflowId,
          stepId: assigned.stepId,
          attempt: assigned.attempt,
          agentId: 'responder-agent',
          output: { echoed: assigned.input },
          confidence: 1,
          usage: { model: 'builtin', inputTokens: 1, outputTokens: 1, costUsd: 0 },
        },
        causedBy(request.envelope, 'responder'),
      );
      await responder.reply(request, taskCompleted, answer);
    },
  });
});

afterAll(async () => {
  await Promise.all([requester.disconnect(), responder.disconnect()]);
});

describe('KafkaBus request/reply', () => {
  it('returns the validated reply to the request', async () => {
    const request = taskAssignedEnvelope();
    const reply = await requester.request(taskAssigned, request, { timeoutMs: 60_000 });

    expect(reply.contract).toBe(taskCompleted);
    expect(reply.envelope.causationId).toBe(request.id);
    expect(reply.envelope.payload).toMatchObject({
      taskId: request.payload.taskId,
      output: { echoed: { text: 'hello' } },
    });
    expect(reply.topic).toMatch(/^baton\.replies\.requester-/);
    expect(reply.headers['baton-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('matches concurrent replies to their requests', async () => {
    const requests = [taskAssignedEnvelope(), taskAssignedEnvelope(), taskAssignedEnvelope()];
    const replies = await Promise.all(requests.map((request) => requester.request(taskAssigned, request, { timeoutMs: 60_000 })));
    expect(replies.map((reply) => reply.envelope.causationId)).toEqual(requests.map((request) => request.id));
  });

  it('rejects with RequestTimeoutError when nobody answers', async () => {
    const heartbeat = createEnvelope(
      agentHeartbeat,
      {
        agentId: 'agent-1',
        instanceId: 'instance-1',
        team: 'platform',
        capabilities: ['summarise'],
        scopes: [],
        models: ['builtin'],
        maxConcurrency: 1,
        inFlight: 0,
        startedAt: new Date().toISOString(),
      },
      { source: 'bus-test', correlationId: 'no-one-listens' },
    );
    const pending = requester.request(agentHeartbeat, heartbeat, { timeoutMs: 1_500 });
    await expect(pending).rejects.toBeInstanceOf(RequestTimeoutError);
    await expect(pending).rejects.toMatchObject({ timeoutMs: 1_500, topic: TOPICS.agentHeartbeats });
  });

  it('keeps answering and publishing after a requester that is gone took its reply topic with it', async () => {
    const gone = new KafkaBus({ brokers, clientId: 'gone-requester', topicPrefix: prefix, logger: capturingLogger() });
    await gone.connect();
    await gone.request(taskAssigned, taskAssignedEnvelope(), { timeoutMs: 60_000 });
    // Disconnecting deletes its reply topic, which the responder's producer has already sent to.
    await gone.disconnect();

    const next = new KafkaBus({ brokers, clientId: 'next-requester', topicPrefix: prefix, logger: capturingLogger() });
    await next.connect();
    try {
      const request = taskAssignedEnvelope();
      const reply = await next.request(taskAssigned, request, { timeoutMs: 60_000 });
      expect(reply.envelope.causationId).toBe(request.id);
      await expect(requester.request(taskAssigned, taskAssignedEnvelope(), { timeoutMs: 60_000 })).resolves.toBeDefined();
    } finally {
      await next.disconnect();
    }
  }, 120_000);
});
