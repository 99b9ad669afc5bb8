/**
 * The agent runner as a real process on real Kafka, with its agents defined in
 * files and its models behind a real HTTP server speaking the OpenAI and
 * Anthropic wire formats: tasks in on baton.tasks.assigned; results, usage,
 * audit records and facts out, checked by what the runner publishes.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus, type Subscription } from '@baton/bus';
import { RawKafka } from '@baton/bus/testing';
import { TOPICS, createEnvelope, dlqTopic, taskAssigned, taskCancelRequested, type Envelope, type JsonValue } from '@baton/contracts';
import { FakeModelServer, anthropicText, openAiText, openAiToolCalls, type ScriptedReply } from '@baton/llm-gateway/testing';
import { expectEventually, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';

type AnyEnvelope = Envelope<Record<string, JsonValue>>;

const AGENTS = {
  'triager.yaml': `
id: triager
team: sre
capabilities: [triage]
scopes: [public, incidents]
model: smart
systemPrompt: You triage incidents. Answer JSON only.
promptTemplate: "scenario={{input.scenario}} service={{input.service}}"
tools: [publish_fact, propose_action, delegate_subtask]
outputSchema:
  type: object
  required: [severity, confidence]
  properties:
    severity: { enum: [low, high] }
    confidence: { type: number, minimum: 0, maximum: 1 }
confidence: { from: output, field: confidence }
maxConcurrency: 2
`,
  'writer.yaml': `
id: writer
team: comms
capabilities: [draft]
model: claude
systemPrompt: You write stakeholder updates as JSON.
promptTemplate: "scenario={{input.scenario}}"
outputSchema: { type: object, required: [text], properties: { text: { type: string } } }
confidence: { from: fixed, value: 0.66 }
maxConcurrency: 4
maxRepairAttempts: 1
`,
  'clerk.yaml': `
id: clerk
team: operations
capabilities: [echo]
model: builtin
systemPrompt: Echo.
outputSchema: { type: object, required: [summary] }
maxConcurrency: 8
`,
};

function scenarioOf(body: Record<string, unknown>): string {
  const messages = body['messages'] as Array<{ role: string; content: unknown }>;
  const text = JSON.stringify(messages);
  return /scenario=([a-z-]+)/.exec(text)?.[1] ?? 'none';
}

function hasToolResults(body: Record<string, unknown>): boolean {
  return JSON.stringify(body['messages']).includes('"role":"tool"');
}

describe('agent runner, end to end', () => {
  const infra = testInfra();
  const topicPrefix = `${uniqueName('e2e-runner')}.`;
  const models = new FakeModelServer();
  const seen: Record<string, AnyEnvelope[]> = { results: [], usage: [], audit: [], facts: [], heartbeats: [], actions: [], requests: [] };
  let runner: SpawnedApp;
  let bus: KafkaBus;
  let subscription: Subscription;
  let raw: RawKafka;

  beforeAll(async () => {
    await models.start();
    models.setDefault('openai', (body): ScriptedReply => {
      switch (scenarioOf(body)) {
        case 'tools':
          return hasToolResults(body)
            ? openAiText('{"severity":"high","confidence":0.9}', { input: 2_000, output: 300 })
            : openAiToolCalls(
                [
                  {
                    id: 'c1',
                    name: 'publish_fact',
                    arguments: { about: { kind: 'Service', id: 'checkout-api' }, attribute: 'p95-latency-ms', value: 900, confidence: 0.8 },
                  },
                  {
                    id: 'c2',
                    name: 'publish_fact',
                    arguments: {
                      about: { kind: 'Service', id: 'checkout-api' },
                      text: 'secret',
                      confidence: 0.5,
                      scopes: ['customer-data'],
                    },
                  },
                  { id: 'c3', name: 'publish_fact', arguments: { about: { kind: 'service', id: 'x' } } },
                  { id: 'c4', name: 'ask_human', arguments: { question: 'may I?' } },
                  { id: 'c6', name: 'delegate_subtask', arguments: { capability: 'draft', input: { about: 'checkout-api latency' } } },
                  { id: 'c7', name: 'delegate_subtask', arguments: { capability: 'triage', input: {} } },
                  {
                    id: 'c5',
                    name: 'propose_action',
                    arguments: { resource: 'ticket:INC-42', action: 'update', parameters: { status: 'mitigating' }, impact: 'low' },
                  },
                ],
                { input: 1_000, output: 100 },
              );
        case 'slow':
          return { ...openAiText('{"severity":"low","confidence":0.7}'), delayMs: 400 };
        case 'cancel':
          return { ...openAiText('{"severity":"low","confidence":0.7}'), delayMs: 8_000 };
        case 'held':
          return { ...openAiText('{"severity":"low","confidence":0.7}'), delayMs: 1_500 };
        default:
          return openAiText('{"severity":"low","confidence":0.77}');
      }
    });
    models.setDefault('anthropic', (body) =>
      scenarioOf(body) === 'prose'
        ? anthropicText('Dear all, things are fine.')
        : anthropicText('{"text":"All clear."}', { input: 500, output: 50 }),
    );

    const dir = mkdtempSync(join(tmpdir(), 'runner-e2e-'));
    const agentsDir = join(dir, 'agents');
    mkdirSync(agentsDir, { recursive: true });
    for (const [file, text] of Object.entries(AGENTS)) writeFileSync(join(agentsDir, file), text);
    const gatewayConfig = join(dir, 'gateway.yaml');
    writeFileSync(
      gatewayConfig,
      JSON.stringify({
        providers: {
          // A provider that is down: every "smart" call falls back to the next target.
          down: {
            kind: 'openai',
            baseUrl: 'http://127.0.0.1:9/v1',
            timeoutMs: 2_000,
            maxRetries: 0,
            models: { 'gpt-down': { inputUsdPer1M: 1, outputUsdPer1M: 1 } },
          },
          oai: {
            kind: 'openai',
            baseUrl: models.openAiBaseUrl,
            apiKeyEnv: 'E2E_OPENAI_KEY',
            maxRetries: 1,
            models: { 'gpt-test': { inputUsdPer1M: 2.5, outputUsdPer1M: 10 } },
          },
          ant: {
            kind: 'anthropic',
            baseUrl: models.anthropicBaseUrl,
            apiKeyEnv: 'E2E_ANTHROPIC_KEY',
            models: { 'claude-test': { inputUsdPer1M: 3, outputUsdPer1M: 15 } },
          },
          builtin: { kind: 'builtin', models: { 'baton-deterministic-v1': { inputUsdPer1M: 0, outputUsdPer1M: 0 } } },
        },
        aliases: { smart: ['down/gpt-down', 'oai/gpt-test'], claude: ['ant/claude-test'], builtin: ['builtin/baton-deterministic-v1'] },
        retry: { baseDelayMs: 10, maxDelayMs: 1_000 },
      }),
    );

    bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-runner-observer', topicPrefix });
    await bus.connect();
    const observed = [
      TOPICS.tasksAssigned,
      TOPICS.tasksResults,
      TOPICS.governanceUsage,
      TOPICS.audit,
      TOPICS.contextFacts,
      TOPICS.agentHeartbeats,
      TOPICS.actionsProposed,
      TOPICS.workflowRequests,
    ];
    await bus.ensureTopics(observed);
    subscription = await bus.subscribe({
      groupId: `observer-${randomUUID()}`,
      topics: observed.filter((topic) => topic !== TOPICS.tasksAssigned),
      handler: async ({ topic, envelope }) => {
        const bucket = {
          [TOPICS.tasksResults]: 'results',
          [TOPICS.governanceUsage]: 'usage',
          [TOPICS.audit]: 'audit',
          [TOPICS.contextFacts]: 'facts',
          [TOPICS.agentHeartbeats]: 'heartbeats',
          [TOPICS.actionsProposed]: 'actions',
          [TOPICS.workflowRequests]: 'requests',
        }[topic];
        if (bucket) seen[bucket]!.push(envelope as AnyEnvelope);
      },
    });
    runner = await spawnApp({
      name: 'agent-runner',
      entry: 'apps/agent-runner/src/main.ts',
      env: {
        KAFKA_BROKERS: infra.kafka.brokers.join(','),
        BATON_TOPIC_PREFIX: topicPrefix,
        RUNNER_INSTANCE_ID: 'e2e-runner-agents',
        RUNNER_AGENTS_DIR: agentsDir,
        BATON_GATEWAY_CONFIG: gatewayConfig,
        E2E_OPENAI_KEY: 'sk-e2e-openai',
        E2E_ANTHROPIC_KEY: 'sk-e2e-anthropic',
        RUNNER_HEARTBEAT_INTERVAL_MS: '1000',
      },
    });
    raw = new RawKafka(infra.kafka.brokers);
  });

  afterAll(async () => {
    await Promise.allSettled([runner?.stop(), subscription?.close(), raw?.close()]);
    await Promise.allSettled([bus?.disconnect(), models.stop()]);
  });

  const assign = async (
    capability: string,
    input: JsonValue,
    extra: { agentId?: string; workflowId?: string; taskId?: string; timeoutMs?: number } = {},
  ): Promise<{ taskId: string; workflowId: string }> => {
    const taskId = extra.taskId ?? randomUUID();
    const workflowId = extra.workflowId ?? randomUUID();
    const envelope = createEnvelope(
      taskAssigned,
      {
        taskId,
        workflowId,
        stepId: 'step-1',
        attempt: 1,
        capability,
        input,
        timeoutMs: extra.timeoutMs ?? 60_000,
        ...(extra.agentId ? { agentId: extra.agentId } : {}),
      },
      { source: 'e2e', correlationId: workflowId, workflowId, stepId: 'step-1' },
    );
    await bus.publish(taskAssigned, envelope);
    return { taskId, workflowId };
  };

  const resultOf = async (taskId: string): Promise<AnyEnvelope> => {
    let found: AnyEnvelope | undefined;
    await expectEventually(
      () => {
        found = seen['results']!.find((envelope) => envelope.payload['taskId'] === taskId);
        expect(found).toBeDefined();
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    return found!;
  };

  it('heartbeats every agent of the definition files, with the models its alias resolves to', async () => {
    await expectEventually(
      () => {
        const byAgent = new Map(seen['heartbeats']!.map((envelope) => [envelope.payload['agentId'], envelope.payload]));
        expect(byAgent.get('triager')).toMatchObject({
          team: 'sre',
          capabilities: ['triage'],
          scopes: ['public', 'incidents'],
          models: ['down/gpt-down', 'oai/gpt-test'],
          maxConcurrency: 2,
          instanceId: 'e2e-runner-agents',
        });
        expect(byAgent.get('writer')).toMatchObject({ team: 'comms', models: ['ant/claude-test'], maxConcurrency: 4 });
        expect(byAgent.get('clerk')).toMatchObject({ models: ['builtin/baton-deterministic-v1'] });
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  });

  it('runs a tool-using agent: fact published, action proposed, subtask delegated, denials and bad arguments answered to the model and audited, result with confidence and usage', async () => {
    const { taskId, workflowId } = await assign('triage', { scenario: 'tools', service: 'checkout-api' });
    const result = await resultOf(taskId);
    expect(result.type).toBe('task.completed');
    expect(result.payload).toMatchObject({ agentId: 'triager', output: { severity: 'high', confidence: 0.9 }, confidence: 0.9 });
    // two calls on oai/gpt-test after the dead provider: 3000 in, 400 out at 2.5 / 10 per 1M.
    const cost = (3_000 * 2.5 + 400 * 10) / 1e6;
    expect(result.payload['usage']).toEqual({ model: 'oai/gpt-test', inputTokens: 3_000, outputTokens: 400, costUsd: cost });

    await expectEventually(() => {
      const usage = seen['usage']!.find((envelope) => envelope.payload['taskId'] === taskId);
      expect(usage?.payload).toMatchObject({
        workflowId,
        agentId: 'triager',
        team: 'sre',
        outcome: 'completed',
        costUsd: cost,
        models: [{ model: 'oai/gpt-test', calls: 2 }],
      });
      const audit = seen['audit']!.filter((envelope) => envelope.payload['taskId'] === taskId).map((envelope) => envelope.payload);
      expect(audit).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ tool: 'publish_fact', outcome: 'allowed' }),
          expect.objectContaining({ tool: 'publish_fact', outcome: 'denied', reason: expect.stringContaining('customer-data') }),
          expect.objectContaining({
            tool: 'publish_fact',
            outcome: 'invalid_arguments',
            reason: expect.stringMatching(/about\.kind: .*confidence: required/s),
          }),
          expect.objectContaining({ tool: 'ask_human', outcome: 'denied', reason: expect.stringContaining('not granted') }),
          expect.objectContaining({ tool: 'propose_action', outcome: 'allowed' }),
          expect.objectContaining({ tool: 'delegate_subtask', outcome: 'allowed' }),
          expect.objectContaining({ tool: 'delegate_subtask', outcome: 'denied', reason: expect.stringContaining('could loop') }),
        ]),
      );
      expect(audit).toHaveLength(7);
      const delegated = seen['requests']!.filter((envelope) => envelope.correlationId === workflowId).map((envelope) => envelope.payload);
      expect(delegated).toEqual([
        expect.objectContaining({
          requestedBy: 'agent:triager',
          input: { about: 'checkout-api latency' },
          definition: expect.objectContaining({ steps: [{ id: 'delegated', capability: 'draft' }] }),
        }),
      ]);
      const facts = seen['facts']!.filter((envelope) => envelope.workflowId === workflowId);
      expect(facts.map((envelope) => [envelope.agentId, envelope.payload['attribute'], envelope.payload['value']])).toEqual([
        ['triager', 'p95-latency-ms', 900],
      ]);
      const actions = seen['actions']!.filter((envelope) => envelope.workflowId === workflowId).map((envelope) => envelope.payload);
      expect(actions).toEqual([
        expect.objectContaining({
          resource: 'ticket:INC-42',
          action: 'update',
          parameters: { status: 'mitigating' },
          impact: 'low',
          taskId,
          agentId: 'triager',
        }),
      ]);
    });

    // The model saw every denial as a tool result, in its own wire format.
    const followUp = models.requestsFor('openai').find((request) => scenarioOf(request.body) === 'tools' && hasToolResults(request.body));
    const toolMessages = (followUp?.body['messages'] as Array<{ role: string; tool_call_id?: string; content: string }>).filter(
      (m) => m.role === 'tool',
    );
    expect(toolMessages.map((m) => [m.tool_call_id, m.content.split(':')[0]])).toEqual([
      ['c1', '{"recorded"'],
      ['c2', 'denied'],
      ['c3', 'invalid arguments'],
      ['c4', 'denied'],
      ['c6', '{"delegated"'],
      ['c7', 'denied'],
      ['c5', '{"proposed"'],
    ]);
    expect(followUp?.headers.authorization).toBe('Bearer sk-e2e-openai');
  });

  it('runs a task about entities without shared context when no context graph answers, and logs why', async () => {
    const { taskId } = await assign('triage', { scenario: 'none', entities: [{ kind: 'Service', id: 'checkout-api' }] });
    const result = await resultOf(taskId);
    expect(result.type).toBe('task.completed');
    expect(result.payload).not.toHaveProperty('contextFactIds');
    await expectEventually(() => {
      const warnings = readFileSync(runner.logFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes('no context from the context graph') && line.includes(taskId));
      expect(warnings.map((line) => (JSON.parse(line) as { level: string }).level)).toEqual(['warn']);
    });
  });

  it('fails a model answer that is not JSON after its repair attempt, keeping the raw output, and still records usage', async () => {
    const { taskId } = await assign('draft', { scenario: 'prose' });
    const result = await resultOf(taskId);
    expect(result.type).toBe('task.failed');
    expect(result.payload).toMatchObject({
      agentId: 'writer',
      error: { code: 'output_not_json', retryable: false },
      rawOutput: 'Dear all, things are fine.',
    });
    await expectEventually(() => {
      const usage = seen['usage']!.find((envelope) => envelope.payload['taskId'] === taskId);
      expect(usage?.payload).toMatchObject({ outcome: 'failed', models: [{ model: 'ant/claude-test', calls: 2 }] });
    });
  });

  it('answers an unknown agent and an unhosted capability with non-retryable failures, and sends malformed tasks to the DLQ, and keeps serving', async () => {
    const physical = `${topicPrefix}${TOPICS.tasksAssigned}`;
    await raw.produce(physical, [{ key: 'x', value: '{"not":"an envelope"' }]);
    const unknown = await assign('triage', { scenario: 'none' }, { agentId: 'ghost' });
    const unhosted = await assign('astrology', {});
    const wrongCapability = await assign('triage', {}, { agentId: 'writer' });
    expect((await resultOf(unknown.taskId)).payload).toMatchObject({
      agentId: 'ghost',
      error: { code: 'unknown_agent', retryable: false },
    });
    expect((await resultOf(unhosted.taskId)).payload).toMatchObject({ error: { code: 'no_agent_for_capability', retryable: false } });
    expect((await resultOf(wrongCapability.taskId)).payload).toMatchObject({ error: { code: 'capability_not_hosted', retryable: false } });
    const dead = await raw.readUntil(dlqTopic(physical), (messages) => messages.length > 0);
    expect(dead[0]?.headers['baton-dlq-reason']).toBeDefined();

    const after = await assign('echo', { still: 'serving' });
    const result = await resultOf(after.taskId);
    expect(result.payload).toMatchObject({
      agentId: 'clerk',
      output: { model: 'baton-deterministic-v1', generatedBy: expect.stringContaining('deterministic') },
    });
  });

  it('runs at most maxConcurrency tasks of one agent at once', async () => {
    models.reset();
    const tasks = await Promise.all([1, 2, 3, 4, 5].map(() => assign('triage', { scenario: 'slow' })));
    for (const task of tasks) expect((await resultOf(task.taskId)).type).toBe('task.completed');
    expect(models.maxInFlight).toBe(2);
  });

  it('abandons a cancelled attempt: its model call is aborted and nothing is published for it', async () => {
    const cancel = (taskId: string, workflowId: string) =>
      bus.publish(
        taskCancelRequested,
        createEnvelope(
          taskCancelRequested,
          { taskId, workflowId, stepId: 'step-1', attempt: 1, reason: 'workflow_cancelled' },
          { source: 'e2e', correlationId: workflowId, workflowId },
        ),
      );
    const abortsBefore = models.clientAborts;
    const running = await assign('triage', { scenario: 'cancel' });
    await expectEventually(() =>
      expect(models.requestsFor('openai').some((request) => JSON.stringify(request.body).includes('scenario=cancel'))).toBe(true),
    );
    await cancel(running.taskId, running.workflowId);
    await expectEventually(() => expect(models.clientAborts).toBe(abortsBefore + 1));

    // Cancelled before the runner sees the assignment: never executed.
    const unseen = { taskId: randomUUID(), workflowId: randomUUID() };
    await cancel(unseen.taskId, unseen.workflowId);
    await assign('echo', {}, unseen);

    // Markers keyed like the cancelled tasks (same partitions) complete: the runner is past both.
    const markers = await Promise.all([
      assign('echo', { marker: 1 }, { workflowId: running.workflowId }),
      assign('echo', { marker: 2 }, { workflowId: unseen.workflowId }),
    ]);
    for (const marker of markers) await resultOf(marker.taskId);
    const cancelledIds = [running.taskId, unseen.taskId];
    expect(seen['results']!.filter((envelope) => cancelledIds.includes(envelope.payload['taskId'] as string))).toEqual([]);
    expect(seen['usage']!.filter((envelope) => cancelledIds.includes(envelope.payload['taskId'] as string))).toEqual([]);
  });

  it("repeats a re-run task's effects under the same ids (a redelivery, or the copy given to another agent), so they count once", async () => {
    const first = await assign('triage', { scenario: 'tools', service: 'checkout-api' });
    await resultOf(first.taskId);
    // The same task and attempt again, as a redelivery after the first run finished or a reassigned copy runs it.
    await assign('triage', { scenario: 'tools', service: 'checkout-api' }, first);
    await expectEventually(() =>
      expect(seen['results']!.filter((envelope) => envelope.payload['taskId'] === first.taskId)).toHaveLength(2),
    );
    await expectEventually(() => {
      const ofTask = (topic: string) => seen[topic]!.filter((envelope) => envelope.workflowId === first.workflowId);
      const facts = ofTask('facts');
      const actions = ofTask('actions');
      const delegated = seen['requests']!.filter((envelope) => envelope.correlationId === first.workflowId);
      expect([facts.length, actions.length, delegated.length]).toEqual([2, 2, 2]);
      expect(new Set(facts.map((envelope) => envelope.id)).size).toBe(1);
      expect(new Set(actions.map((envelope) => envelope.id)).size).toBe(1);
      expect(new Set(delegated.map((envelope) => envelope.payload['workflowId'])).size).toBe(1);
    });
  });

  it('leaves its copy of an attempt alone when the cancellation names another agent (the one the task was moved from)', async () => {
    const cancelFor = (task: { taskId: string; workflowId: string }, agentId: string) =>
      bus.publish(
        taskCancelRequested,
        createEnvelope(
          taskCancelRequested,
          { ...task, stepId: 'step-1', attempt: 1, agentId, reason: 'superseded' },
          { source: 'e2e', correlationId: task.workflowId, workflowId: task.workflowId },
        ),
      );
    // A task for the gone agent, keyed (and so ordered) like the cancellation: once it is answered, the runner has read it.
    const behindCancellation = async (): Promise<void> => {
      const marker = await assign('triage', {}, { agentId: 'gone-agent' });
      expect((await resultOf(marker.taskId)).payload).toMatchObject({ error: { code: 'unknown_agent' } });
    };
    const abortsBefore = models.clientAborts;

    // The cancellation is read before the reassigned copy arrives.
    const moved = { taskId: randomUUID(), workflowId: randomUUID() };
    await cancelFor(moved, 'gone-agent');
    await behindCancellation();
    await assign('triage', {}, { ...moved, agentId: 'triager' });
    expect((await resultOf(moved.taskId)).type).toBe('task.completed');

    // The cancellation is read while the reassigned copy runs.
    const running = await assign('triage', { scenario: 'held' }, { agentId: 'triager' });
    await expectEventually(() =>
      expect(models.requestsFor('openai').some((request) => JSON.stringify(request.body).includes('scenario=held'))).toBe(true),
    );
    await cancelFor(running, 'gone-agent');
    await behindCancellation();
    expect((await resultOf(running.taskId)).type).toBe('task.completed');
    expect(models.clientAborts).toBe(abortsBefore);
  });

  it('fails an attempt that outlives its timeoutMs as retryable, aborting the model call', async () => {
    const abortsBefore = models.clientAborts;
    const { taskId } = await assign('triage', { scenario: 'cancel' }, { timeoutMs: 500 });
    const result = await resultOf(taskId);
    expect(result.type).toBe('task.failed');
    expect(result.payload).toMatchObject({ agentId: 'triager', error: { code: 'task_timed_out', retryable: true } });
    await expectEventually(() => expect(models.clientAborts).toBeGreaterThan(abortsBefore));
  });
});
