import { randomUUID } from 'node:crypto';
import { DETERMINISTIC_MODEL, LlmGateway, parseGatewayConfig, type ToolCall } from '@baton/llm-gateway';
import { FakeModelServer, anthropicText, anthropicToolUse, openAiText, openAiToolCalls, serverError } from '@baton/llm-gateway/testing';
import { parseAgentDefinition, type AgentDefinition } from '../agents/agent-definition';
import {
  AgentExecutor,
  CONTEXT_PREAMBLE,
  confidenceOf,
  promptWithContext,
  renderPrompt,
  type AssignedTask,
  type ContextProvider,
  type ToolBox,
} from './agent-executor';

const server = new FakeModelServer();
beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => server.reset());

function gateway(): LlmGateway {
  return new LlmGateway(
    parseGatewayConfig({
      providers: {
        oai: {
          kind: 'openai',
          baseUrl: server.openAiBaseUrl,
          maxRetries: 0,
          models: { 'gpt-test': { inputUsdPer1M: 1, outputUsdPer1M: 2 } },
        },
        ant: {
          kind: 'anthropic',
          baseUrl: server.anthropicBaseUrl,
          maxRetries: 0,
          models: { 'claude-test': { inputUsdPer1M: 3, outputUsdPer1M: 15 } },
        },
        builtin: { kind: 'builtin', models: { [DETERMINISTIC_MODEL]: { inputUsdPer1M: 0, outputUsdPer1M: 0 } } },
      },
      aliases: { gpt: ['oai/gpt-test'], claude: ['ant/claude-test'], builtin: [`builtin/${DETERMINISTIC_MODEL}`] },
      retry: { baseDelayMs: 1, maxDelayMs: 10 },
    }),
  );
}

function agent(overrides: Record<string, unknown> = {}): AgentDefinition {
  return parseAgentDefinition(
    {
      id: 'triager',
      team: 'sre',
      capabilities: ['triage'],
      scopes: ['public'],
      model: 'gpt',
      systemPrompt: 'You triage incidents.',
      promptTemplate: 'Triage {{input.service}} for {{capability}}: {{input}}',
      outputSchema: { type: 'object', required: ['severity'], properties: { severity: { enum: ['low', 'high'] } } },
      maxConcurrency: 2,
      maxRepairAttempts: 1,
      ...overrides,
    },
    'spec',
  );
}

const task: AssignedTask = {
  taskId: randomUUID(),
  workflowId: randomUUID(),
  stepId: 'triage',
  attempt: 1,
  capability: 'triage',
  input: { service: 'checkout-api' },
  timeoutMs: 30_000,
};

const live = (): AbortSignal => new AbortController().signal;

describe('AgentExecutor', () => {
  it('prompts the model with the system prompt and the rendered template, and completes with output, confidence and usage', async () => {
    server.enqueue('openai', openAiText('{"severity":"high","confidence":0.82}', { input: 1_000, output: 100 }));
    const outcome = await new AgentExecutor(gateway()).run(agent(), task, live());
    expect(outcome).toMatchObject({
      kind: 'completed',
      output: { severity: 'high', confidence: 0.82 },
      confidence: 0.82,
      usage: { inputTokens: 1_000, outputTokens: 100, lastModel: 'oai/gpt-test', models: [{ model: 'oai/gpt-test', calls: 1 }] },
    });
    expect(outcome.usage.costUsd).toBeCloseTo((1_000 * 1 + 100 * 2) / 1e6, 10);
    const [request] = server.requestsFor('openai');
    expect(request?.body['messages']).toEqual([
      { role: 'system', content: 'You triage incidents.' },
      { role: 'user', content: 'Triage checkout-api for triage: {\n  "service": "checkout-api"\n}' },
    ]);
  });

  it('repairs an answer that is not JSON, and lowers the confidence for it', async () => {
    server.enqueue('openai', openAiText('Severity is high, I think.'), openAiText('```json\n{"severity":"high","confidence":0.9}\n```'));
    const outcome = await new AgentExecutor(gateway()).run(agent(), task, live());
    expect(outcome).toMatchObject({ kind: 'completed', output: { severity: 'high' }, confidence: 0.8 });
    const repairTurn = (server.requestsFor('openai')[1]?.body['messages'] as Array<{ role: string; content: string }>).at(-1);
    expect(repairTurn?.content).toMatch(/not JSON/);
  });

  it('fails non-retryably with the raw output kept once the repair attempts are spent', async () => {
    server.enqueue('openai', openAiText('{"severity":"medium"}'), openAiText('{"severity":"catastrophic"}'));
    const outcome = await new AgentExecutor(gateway()).run(agent(), task, live());
    expect(outcome).toMatchObject({
      kind: 'failed',
      code: 'output_schema_mismatch',
      retryable: false,
      rawOutput: '{"severity":"catastrophic"}',
    });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(/\$\.severity: must be one of "low", "high"/);
    expect(outcome.usage.models[0]?.calls).toBe(2);
  });

  it('asks again for an answer holding text that cannot be passed on (a NUL character), then fails naming it', async () => {
    const unstorable = openAiText('{"severity":"low","note":"a\\u0000b"}');
    server.enqueue('openai', unstorable, unstorable);
    const outcome = await new AgentExecutor(gateway()).run(agent({ maxRepairAttempts: 1 }), task, live());
    expect(outcome).toMatchObject({ kind: 'failed', code: 'output_schema_mismatch', retryable: false });
    expect(outcome.kind === 'failed' && outcome.message).toContain('note: contains a NUL character (U+0000)');
    expect(outcome.usage.models[0]?.calls).toBe(2);
  });

  it('fails with output_not_json when the model never answers JSON', async () => {
    server.enqueue('anthropic', anthropicText('no'), anthropicText('still no'));
    const outcome = await new AgentExecutor(gateway()).run(agent({ model: 'claude' }), task, live());
    expect(outcome).toMatchObject({ kind: 'failed', code: 'output_not_json', retryable: false, rawOutput: 'still no' });
  });

  it('runs tool rounds through the tool box and feeds results back to the model', async () => {
    const calls: ToolCall[] = [];
    const tools: ToolBox = {
      definitionsFor: () => [{ name: 'query_context', description: 'q', parameters: { type: 'object' } }],
      invoke: async (call) => {
        calls.push(call);
        return { content: '{"facts":[]}', isError: false };
      },
    };
    server.enqueue(
      'anthropic',
      anthropicToolUse([{ id: 'toolu_9', name: 'query_context', arguments: { kind: 'search', text: 'checkout' } }]),
      anthropicText('{"severity":"low"}'),
    );
    const outcome = await new AgentExecutor(gateway(), tools).run(agent({ model: 'claude', tools: ['query_context'] }), task, live());
    expect(outcome).toMatchObject({ kind: 'completed', output: { severity: 'low' }, confidence: 0.5 });
    expect(calls.map((call) => call.arguments)).toEqual([{ kind: 'search', text: 'checkout' }]);
    const followUp = server.requestsFor('anthropic')[1]?.body['messages'] as Array<{ content: Array<{ type: string }> }>;
    expect(followUp.at(-1)?.content[0]).toEqual({ type: 'tool_result', tool_use_id: 'toolu_9', content: '{"facts":[]}' });
  });

  it("numbers the attempt's tool calls, and carries out none after a cancellation, even within one answer", async () => {
    const controller = new AbortController();
    const invoked: Array<[string, number]> = [];
    const tools: ToolBox = {
      definitionsFor: () => [
        { name: 'ask_human', description: 'a', parameters: { type: 'object' } },
        { name: 'propose_action', description: 'p', parameters: { type: 'object' } },
      ],
      invoke: async (call, context) => {
        invoked.push([call.name, context.ordinal]);
        // The task is cancelled while the first call waits (for a human, say).
        if (call.name === 'ask_human') controller.abort();
        return { content: '{}', isError: false };
      },
    };
    server.enqueue(
      'openai',
      openAiToolCalls([{ name: 'query_context', arguments: {} }]),
      openAiToolCalls([
        { id: 'a', name: 'ask_human', arguments: { question: 'q' } },
        { id: 'b', name: 'propose_action', arguments: { resource: 'ticket:1', action: 'close' } },
      ]),
    );
    const outcome = await new AgentExecutor(gateway(), tools).run(
      agent({ tools: ['query_context', 'ask_human', 'propose_action'] }),
      task,
      controller.signal,
    );
    expect(outcome.kind).toBe('cancelled');
    expect(invoked).toEqual([
      ['query_context', 0],
      ['ask_human', 1],
    ]);
  });

  it('stops a model that keeps calling tools', async () => {
    const tools: ToolBox = {
      definitionsFor: () => [{ name: 'query_context', description: 'q', parameters: { type: 'object' } }],
      invoke: async () => ({ content: '{}', isError: false }),
    };
    const loop = openAiToolCalls([{ name: 'query_context', arguments: { kind: 'search', text: 'x' } }]);
    server.enqueue('openai', loop, loop, loop);
    const outcome = await new AgentExecutor(gateway(), tools).run(agent({ tools: ['query_context'], maxToolRounds: 2 }), task, live());
    expect(outcome).toMatchObject({ kind: 'failed', code: 'tool_rounds_exceeded', retryable: false });
  });

  it('reports a retryable model_unavailable when no provider answers', async () => {
    server.enqueue('openai', serverError('openai', 503));
    const outcome = await new AgentExecutor(gateway()).run(agent(), task, live());
    expect(outcome).toMatchObject({ kind: 'failed', code: 'model_unavailable', retryable: true });
  });

  it('abandons the attempt when cancelled mid-call', async () => {
    server.enqueue('openai', { ...openAiText('{"severity":"low"}'), delayMs: 2_000 });
    const controller = new AbortController();
    const pending = new AgentExecutor(gateway()).run(agent(), task, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect((await pending).kind).toBe('cancelled');
  });

  it('attaches the shared context before the first model call and reports which facts it held', async () => {
    server.enqueue('openai', openAiText('{"severity":"low"}'), openAiText('{"severity":"low"}'));
    const asked: string[] = [];
    const context: ContextProvider = {
      contextFor: async (_agent, assigned) => {
        asked.push(assigned.taskId);
        return { text: '{"id":"f1","attribute":"pool","value":5}', factIds: ['f1'] };
      },
    };
    const placed = await new AgentExecutor(gateway(), undefined, context).run(
      agent({ promptTemplate: 'Known: {{context}} / {{input.service}}' }),
      task,
      live(),
    );
    expect(placed).toMatchObject({ kind: 'completed', contextFactIds: ['f1'] });
    const appended = await new AgentExecutor(gateway(), undefined, context).run(
      agent({ promptTemplate: 'Triage {{input.service}}' }),
      task,
      live(),
    );
    expect(appended).toMatchObject({ kind: 'completed', contextFactIds: ['f1'] });
    const [first, second] = server
      .requestsFor('openai')
      .map((request) => (request.body['messages'] as Array<{ content: string }>)[1]?.content);
    expect(first).toBe('Known: {"id":"f1","attribute":"pool","value":5} / checkout-api');
    expect(second).toBe(`Triage checkout-api\n\n${CONTEXT_PREAMBLE}\n{"id":"f1","attribute":"pool","value":5}`);
    expect(asked).toEqual([task.taskId, task.taskId]);
  });

  it('runs without context, and without contextFactIds, when there is none', async () => {
    server.enqueue('openai', openAiText('{"severity":"low"}'));
    const outcome = await new AgentExecutor(gateway(), undefined, { contextFor: async () => undefined }).run(
      agent({ promptTemplate: 'A {{context}}B' }),
      task,
      live(),
    );
    expect(outcome.kind).toBe('completed');
    expect(outcome).not.toHaveProperty('contextFactIds');
    expect((server.requestsFor('openai')[0]?.body['messages'] as Array<{ content: string }>)[1]?.content).toBe('A B');
  });

  it('gives tools the attempt deadline', async () => {
    const deadlines: Array<number | undefined> = [];
    const tools: ToolBox = {
      definitionsFor: () => [{ name: 'ask_human', description: 'd', parameters: { type: 'object' } }],
      invoke: async (_call, context) => {
        deadlines.push(context.deadlineAt);
        return { content: 'ok', isError: false };
      },
    };
    server.enqueue(
      'openai',
      openAiToolCalls([{ id: 'a', name: 'ask_human', arguments: { question: 'q' } }]),
      openAiText('{"severity":"low"}'),
    );
    const before = Date.now();
    await new AgentExecutor(gateway(), tools).run(agent(), task, live());
    expect(deadlines).toHaveLength(1);
    expect(deadlines[0]).toBeGreaterThanOrEqual(before + task.timeoutMs);
    expect(deadlines[0]).toBeLessThanOrEqual(Date.now() + task.timeoutMs);
  });

  it('runs the built-in agents on the deterministic model with the output saying so', async () => {
    const outcome = await new AgentExecutor(gateway()).run(
      agent({ model: 'builtin', outputSchema: { type: 'object', required: ['summary', 'confidence'] }, confidence: { from: 'output' } }),
      task,
      live(),
    );
    expect(outcome).toMatchObject({
      kind: 'completed',
      output: { model: DETERMINISTIC_MODEL, capability: 'triage', summary: 'triage of {service}' },
    });
    expect(outcome.kind === 'completed' && outcome.confidence).toBe(
      outcome.kind === 'completed' && (outcome.output as { confidence: number }).confidence,
    );
  });
});

describe('confidence and prompt helpers', () => {
  it('applies the confidence rule', () => {
    expect(confidenceOf({ from: 'fixed', value: 0.3 }, {}, 2)).toBe(0.3);
    const rule = { from: 'output' as const, field: 'certainty', default: 0.4, repairPenalty: 0.25 };
    expect(confidenceOf(rule, { certainty: 0.9 }, 1)).toBe(0.65);
    expect(confidenceOf(rule, { certainty: 'high' }, 0)).toBe(0.4);
    expect(confidenceOf(rule, { certainty: 7 }, 0)).toBe(1);
  });

  it('renders template variables and leaves unknown ones', () => {
    expect(renderPrompt('{{ capability }} {{input.a.b}} {{input.missing}}|{{other}}', { ...task, input: { a: { b: [1] } } })).toBe(
      'triage [1] |{{other}}',
    );
  });

  it('places the context where the template says, else after the prompt, and adds nothing when there is none', () => {
    expect(promptWithContext('x {{ context }} y', task, 'FACTS')).toBe('x FACTS y');
    expect(promptWithContext('x', task, 'FACTS')).toBe(`x\n\n${CONTEXT_PREAMBLE}\nFACTS`);
    expect(promptWithContext('x', task, undefined)).toBe('x');
    expect(promptWithContext('x {{context}}', task, undefined)).toBe('x ');
  });
});
