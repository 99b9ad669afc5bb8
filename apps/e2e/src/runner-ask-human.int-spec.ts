/**
 * The ask_human tool end to end: the runner as a real process on real Kafka, its model behind a real HTTP
 * server. The test is the human (where the approvals inbox will be): it consumes `human.question.asked` from
 * baton.approvals.requests and answers with bus.reply, exactly as that service will. What the model reads in its
 * tool result, the task result and the `agent.tool_called` audit are checked; so is a question nobody answers.
 */
import { randomUUID } from 'node:crypto';
import { KafkaBus, type ConsumedMessage, type Subscription } from '@baton/bus';
import {
  TOPICS,
  causedBy,
  createEnvelope,
  humanQuestionAnswered,
  humanQuestionAsked,
  taskAssigned,
  type Envelope,
  type JsonValue,
  type PayloadOf,
} from '@baton/contracts';
import { FakeModelServer, openAiText, openAiToolCalls, type ScriptedReply } from '@baton/llm-gateway/testing';
import { expectEventually, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { writeRunnerFixture } from './runner-fixture';

type AnyEnvelope = Envelope<Record<string, JsonValue>>;
type Question = PayloadOf<typeof humanQuestionAsked>;

/** Short enough for the unanswered case to end quickly, long enough for the test to answer the others. */
const ASK_HUMAN_TIMEOUT_MS = 6_000;

const AGENT = `
id: on-call
team: sre
capabilities: [rollback-decision]
model: gpt
systemPrompt: You decide on rollbacks and ask a human when unsure. Answer JSON only.
promptTemplate: "scenario={{input.scenario}}"
tools: [ask_human]
outputSchema: { type: object, required: [humanSaid] }
confidence: { from: fixed, value: 0.7 }
maxConcurrency: 4
`;

function scenarioOf(body: Record<string, unknown>): string {
  return /scenario=([a-z-]+)/.exec(JSON.stringify(body['messages']))?.[1] ?? 'none';
}

describe('ask_human, end to end', () => {
  const infra = testInfra();
  const topicPrefix = `${uniqueName('e2e-ask')}.`;
  const models = new FakeModelServer();
  const results: AnyEnvelope[] = [];
  const audit: AnyEnvelope[] = [];
  const questions: ConsumedMessage[] = [];
  let runner: SpawnedApp;
  let bus: KafkaBus;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    await models.start();
    models.setDefault('openai', (body): ScriptedReply => {
      const messages = body['messages'] as Array<{ role: string; tool_call_id?: string; content: string | null }>;
      const toolResults = messages.filter((message) => message.role === 'tool');
      // Second turn: the model says what the tool told it, so the task result shows what reached the model.
      if (toolResults.length > 0) {
        return openAiText(JSON.stringify({ humanSaid: Object.fromEntries(toolResults.map((m) => [m.tool_call_id, m.content])) }));
      }
      if (scenarioOf(body) === 'unanswered') {
        return openAiToolCalls([{ id: 'q1', name: 'ask_human', arguments: { question: 'Is anyone there? ignore-me' } }]);
      }
      return openAiToolCalls([
        {
          id: 'q1',
          name: 'ask_human',
          arguments: {
            question: 'May I roll back checkout-api to 4.1? answer-me',
            context: 'p95 latency tripled after 4.2',
            options: ['roll back', 'wait'],
          },
        },
        { id: 'q2', name: 'ask_human', arguments: { question: 'Shall I page the CFO? decline-me' } },
      ]);
    });
    const fixture = writeRunnerFixture({
      agents: { 'on-call.yaml': AGENT },
      openAiBaseUrl: models.openAiBaseUrl,
      alias: 'gpt',
      model: 'gpt-test',
    });

    bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-ask-human', topicPrefix });
    await bus.connect();
    await bus.ensureTopics([TOPICS.tasksAssigned, TOPICS.tasksResults, TOPICS.audit, TOPICS.approvalsRequests, TOPICS.approvalsDecisions]);
    subscriptions.push(
      await bus.subscribe({
        groupId: `observer-${randomUUID()}`,
        topics: [TOPICS.tasksResults, TOPICS.audit],
        handler: async ({ topic, envelope }) => void (topic === TOPICS.audit ? audit : results).push(envelope as AnyEnvelope),
      }),
      // The human at the inbox.
      await bus.subscribe({
        groupId: `human-${randomUUID()}`,
        topics: [TOPICS.approvalsRequests],
        handler: async (message) => {
          questions.push(message);
          const asked = message.envelope as Envelope<Question>;
          const text = asked.payload.question;
          if (text.includes('ignore-me')) return;
          const declined = text.includes('decline-me');
          await bus.reply(
            message,
            humanQuestionAnswered,
            createEnvelope(
              humanQuestionAnswered,
              {
                questionId: asked.payload.questionId,
                answer: declined ? 'not my call' : 'yes, roll back to 4.1',
                answeredBy: declined ? 'bob@example.com' : 'alice@example.com',
                ...(declined ? { declined: true } : {}),
              },
              causedBy(asked, 'e2e-human'),
            ),
          );
        },
      }),
    );
    runner = await spawnApp({
      name: 'agent-runner',
      entry: 'apps/agent-runner/src/main.ts',
      env: {
        KAFKA_BROKERS: infra.kafka.brokers.join(','),
        BATON_TOPIC_PREFIX: topicPrefix,
        RUNNER_AGENTS_DIR: fixture.agentsDir,
        BATON_GATEWAY_CONFIG: fixture.gatewayConfig,
        RUNNER_ASK_HUMAN_TIMEOUT_MS: String(ASK_HUMAN_TIMEOUT_MS),
      },
    });
  });

  afterAll(async () => {
    await Promise.allSettled([runner?.stop(), ...subscriptions.map((subscription) => subscription.close())]);
    await Promise.allSettled([bus?.disconnect(), models.stop()]);
  });

  const assign = async (scenario: string): Promise<{ taskId: string; workflowId: string }> => {
    const taskId = randomUUID();
    const workflowId = randomUUID();
    await bus.publish(
      taskAssigned,
      createEnvelope(
        taskAssigned,
        { taskId, workflowId, stepId: 'decide', attempt: 1, capability: 'rollback-decision', input: { scenario }, timeoutMs: 120_000 },
        { source: 'e2e', correlationId: workflowId, workflowId, stepId: 'decide' },
      ),
    );
    return { taskId, workflowId };
  };

  const resultOf = (taskId: string): Promise<AnyEnvelope> =>
    expectEventually(
      () => {
        const found = results.find((envelope) => envelope.payload['taskId'] === taskId);
        expect(found).toBeDefined();
        return found!;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );

  const auditOf = (taskId: string): Record<string, JsonValue>[] =>
    audit.filter((envelope) => envelope.payload['taskId'] === taskId).map((envelope) => envelope.payload);

  it('puts the question in front of the human and gives the model the answer and the refusal', async () => {
    const asked = Date.now();
    const { taskId, workflowId } = await assign('answered');
    const result = await resultOf(taskId);
    expect(result.type).toBe('task.completed');
    const humanSaid = (result.payload['output'] as { humanSaid: Record<string, string> }).humanSaid;
    expect(JSON.parse(humanSaid['q1']!)).toEqual({ answered: true, answer: 'yes, roll back to 4.1', answeredBy: 'alice@example.com' });
    expect(JSON.parse(humanSaid['q2']!)).toMatchObject({
      answered: false,
      declined: true,
      answeredBy: 'bob@example.com',
      reason: 'not my call',
    });

    const mine = questions.filter((message) => (message.envelope.payload as Question).taskId === taskId);
    expect(mine).toHaveLength(2);
    const first = mine.find((message) => (message.envelope.payload as Question).question.includes('answer-me'))!;
    const question = first.envelope.payload as Question;
    expect(question).toEqual({
      questionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      taskId,
      workflowId,
      stepId: 'decide',
      agentId: 'on-call',
      team: 'sre',
      question: 'May I roll back checkout-api to 4.1? answer-me',
      context: 'p95 latency tripled after 4.2',
      options: ['roll back', 'wait'],
      expiresAt: expect.any(String),
    });
    expect(first.envelope).toMatchObject({
      id: question.questionId,
      type: 'human.question.asked',
      workflowId,
      agentId: 'on-call',
      team: 'sre',
    });
    expect(first.key).toBe(question.questionId);
    // Asked between `asked` and now, for the configured wait (the task's own 120 s deadline is further away).
    expect(Date.parse(question.expiresAt)).toBeGreaterThanOrEqual(asked + ASK_HUMAN_TIMEOUT_MS);
    expect(Date.parse(question.expiresAt)).toBeLessThanOrEqual(Date.now() + ASK_HUMAN_TIMEOUT_MS);

    await expectEventually(() => {
      const calls = auditOf(taskId);
      expect(calls).toHaveLength(2);
      expect(calls.every((call) => call['tool'] === 'ask_human' && call['outcome'] === 'allowed')).toBe(true);
      expect(calls.map((call) => (call['arguments'] as { question: string }).question).sort()).toEqual([
        'May I roll back checkout-api to 4.1? answer-me',
        'Shall I page the CFO? decline-me',
      ]);
    });
  });

  it('tells the model nobody answered in time, records the call as failed, and the task still finishes', async () => {
    const { taskId } = await assign('unanswered');
    const result = await resultOf(taskId);
    expect(result.type).toBe('task.completed');
    const humanSaid = (result.payload['output'] as { humanSaid: Record<string, string> }).humanSaid;
    expect(humanSaid['q1']).toMatch(new RegExp(`^failed: no human answered within ${ASK_HUMAN_TIMEOUT_MS} ms`));
    expect(questions.some((message) => (message.envelope.payload as Question).taskId === taskId)).toBe(true);
    await expectEventually(() =>
      expect(auditOf(taskId)).toEqual([
        expect.objectContaining({
          tool: 'ask_human',
          outcome: 'failed',
          reason: expect.stringContaining(`no human answered within ${ASK_HUMAN_TIMEOUT_MS} ms`),
        }),
      ]),
    );
  });
});
