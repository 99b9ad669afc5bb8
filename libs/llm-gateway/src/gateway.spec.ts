import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, type TelemetryHandle } from '@baton/telemetry';
import {
  FakeModelServer,
  anthropicText,
  anthropicToolUse,
  openAiText,
  openAiToolCalls,
  rateLimited,
  serverError,
} from './testing/fake-model-server';
import { parseGatewayConfig, type GatewayConfigInput } from './config';
import { GatewayError } from './errors';
import { LlmGateway, costOf } from './gateway';
import { DETERMINISTIC_MODEL } from './providers/deterministic-model';
import type { ChatMessage } from './types';

const exporter = new InMemorySpanExporter();
const processor = new SimpleSpanProcessor(exporter);
let telemetry: TelemetryHandle;
const server = new FakeModelServer();

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: 'spec-llm-gateway', spanProcessors: [processor] });
  await server.start();
});
afterAll(async () => {
  await server.stop();
  await telemetry.shutdown();
});
beforeEach(() => {
  server.reset();
  exporter.reset();
});

const env = { FAKE_OPENAI_KEY: 'sk-openai-test', FAKE_ANTHROPIC_KEY: 'sk-ant-test' };

function gateway(overrides: Partial<GatewayConfigInput> = {}, timeoutMs = 2_000): LlmGateway {
  const config: GatewayConfigInput = {
    providers: {
      oai: {
        kind: 'openai',
        baseUrl: server.openAiBaseUrl,
        apiKeyEnv: 'FAKE_OPENAI_KEY',
        timeoutMs,
        maxRetries: 2,
        models: { 'gpt-test': { inputUsdPer1M: 2.5, outputUsdPer1M: 10 } },
      },
      ant: {
        kind: 'anthropic',
        baseUrl: server.anthropicBaseUrl,
        apiKeyEnv: 'FAKE_ANTHROPIC_KEY',
        timeoutMs,
        maxRetries: 1,
        models: { 'claude-test': { inputUsdPer1M: 3, outputUsdPer1M: 15 } },
      },
      builtin: { kind: 'builtin', models: { [DETERMINISTIC_MODEL]: { inputUsdPer1M: 0, outputUsdPer1M: 0 } } },
    },
    aliases: {
      smart: ['oai/gpt-test', 'ant/claude-test'],
      claude: ['ant/claude-test'],
      gpt: ['oai/gpt-test'],
      builtin: [`builtin/${DETERMINISTIC_MODEL}`],
    },
    retry: { baseDelayMs: 5, maxDelayMs: 2_000 },
    ...overrides,
  };
  return new LlmGateway(parseGatewayConfig(config, env), { random: () => 0.5 });
}

const tools = [
  {
    name: 'lookup_service',
    description: 'Find a service by name',
    parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  },
];

describe('LlmGateway over the OpenAI chat-completions wire format', () => {
  it('sends a well-formed request and returns content, usage and the cost from the price table', async () => {
    server.enqueue('openai', openAiText('{"answer":42}', { input: 1_000, output: 500 }));
    const response = await gateway().chat({
      model: 'gpt',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'question' },
      ],
      json: true,
      maxTokens: 100,
      temperature: 0,
    });
    expect(response).toMatchObject({
      content: '{"answer":42}',
      finishReason: 'stop',
      usage: { inputTokens: 1_000, outputTokens: 500 },
      target: 'oai/gpt-test',
      provider: 'oai',
      model: 'fake-gpt',
    });
    // 1000 * 2.5 / 1M + 500 * 10 / 1M
    expect(response.costUsd).toBeCloseTo(0.0075, 10);
    const [request] = server.requestsFor('openai');
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe('Bearer sk-openai-test');
    expect(request?.body).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'question' },
      ],
      max_tokens: 100,
      temperature: 0,
      response_format: { type: 'json_object' },
    });
  });

  it('normalises tool calls and sends tool results back in the OpenAI format', async () => {
    server.enqueue(
      'openai',
      openAiToolCalls([
        { id: 'call_a', name: 'lookup_service', arguments: { name: 'checkout-api' } },
        { id: 'call_b', name: 'lookup_service', arguments: '{not json' },
      ]),
      openAiText('done'),
    );
    const gw = gateway();
    const first = await gw.chat({ model: 'gpt', messages: [{ role: 'user', content: 'find it' }], tools });
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toEqual([
      { id: 'call_a', name: 'lookup_service', arguments: { name: 'checkout-api' }, rawArguments: '{"name":"checkout-api"}' },
      { id: 'call_b', name: 'lookup_service', arguments: undefined, rawArguments: '{not json' },
    ]);
    expect(server.requestsFor('openai')[0]?.body['tools']).toEqual([
      { type: 'function', function: { name: 'lookup_service', description: 'Find a service by name', parameters: tools[0]!.parameters } },
    ]);

    const followUp: ChatMessage[] = [
      { role: 'user', content: 'find it' },
      { role: 'assistant', content: null, toolCalls: first.toolCalls.slice(0, 1) },
      { role: 'tool', toolCallId: 'call_a', name: 'lookup_service', content: '{"owner":"payments"}' },
    ];
    await gw.chat({ model: 'gpt', messages: followUp, tools });
    expect(server.requestsFor('openai')[1]?.body['messages']).toEqual([
      { role: 'user', content: 'find it' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'lookup_service', arguments: '{"name":"checkout-api"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '{"owner":"payments"}' },
    ]);
  });
});

describe('LlmGateway over the Anthropic Messages wire format', () => {
  it('sends system apart, the API key and version headers, max_tokens, and reads text and usage', async () => {
    server.enqueue('anthropic', anthropicText('hello', { input: 2_000, output: 100 }));
    const response = await gateway().chat({
      model: 'claude',
      messages: [
        { role: 'system', content: 'you are terse' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(response).toMatchObject({ content: 'hello', finishReason: 'stop', target: 'ant/claude-test', model: 'fake-claude' });
    expect(response.costUsd).toBeCloseTo((2_000 * 3 + 100 * 15) / 1_000_000, 10);
    const [request] = server.requestsFor('anthropic');
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['x-api-key']).toBe('sk-ant-test');
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.body).toEqual({
      model: 'claude-test',
      max_tokens: 4096,
      system: 'you are terse',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
  });

  it('normalises tool_use blocks to the same shape and sends tool_result blocks back', async () => {
    server.enqueue(
      'anthropic',
      anthropicToolUse([{ id: 'toolu_1', name: 'lookup_service', arguments: { name: 'db' } }]),
      anthropicText('ok'),
    );
    const gw = gateway();
    const first = await gw.chat({ model: 'claude', messages: [{ role: 'user', content: 'find' }], tools });
    expect(first.finishReason).toBe('tool_calls');
    expect(first.content).toBe('Let me use a tool.');
    expect(first.toolCalls).toEqual([{ id: 'toolu_1', name: 'lookup_service', arguments: { name: 'db' }, rawArguments: '{"name":"db"}' }]);
    expect(server.requestsFor('anthropic')[0]?.body['tools']).toEqual([
      { name: 'lookup_service', description: 'Find a service by name', input_schema: tools[0]!.parameters },
    ]);

    await gw.chat({
      model: 'claude',
      messages: [
        { role: 'user', content: 'find' },
        { role: 'assistant', content: first.content, toolCalls: first.toolCalls },
        { role: 'tool', toolCallId: 'toolu_1', name: 'lookup_service', content: 'denied: no scope', isError: true },
      ],
      tools,
    });
    expect(server.requestsFor('anthropic')[1]?.body['messages']).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'find' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me use a tool.' },
          { type: 'tool_use', id: 'toolu_1', name: 'lookup_service', input: { name: 'db' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'denied: no scope', is_error: true }] },
    ]);
  });
});

describe('retries, timeouts and fallbacks', () => {
  it('retries a 429 after the retry-after the provider asked for, on the same target', async () => {
    server.enqueue('openai', rateLimited('openai', 0.05), openAiText('after the wait'));
    const response = await gateway().chat({ model: 'smart', messages: [{ role: 'user', content: 'x' }] });
    expect(response.content).toBe('after the wait');
    expect(response.attempts.map((a) => [a.target, a.outcome, a.errorCode])).toEqual([
      ['oai/gpt-test', 'error', 'rate_limited'],
      ['oai/gpt-test', 'ok', undefined],
    ]);
    expect(server.requestsFor('anthropic')).toHaveLength(0);
  });

  it('falls back to the next target when a 429 asks to wait longer than the maximum delay', async () => {
    server.enqueue('openai', rateLimited('openai', 60));
    server.enqueue('anthropic', anthropicText('from the fallback'));
    const response = await gateway().chat({ model: 'smart', messages: [{ role: 'user', content: 'x' }] });
    expect(response.content).toBe('from the fallback');
    expect(server.requestsFor('openai')).toHaveLength(1);
  });

  it('retries 500s up to maxRetries, then falls back to the next target', async () => {
    server.enqueue('openai', serverError('openai'), serverError('openai'), serverError('openai'));
    server.enqueue('anthropic', anthropicText('rescued'));
    const response = await gateway().chat({ model: 'smart', messages: [{ role: 'user', content: 'x' }] });
    expect(response.content).toBe('rescued');
    expect(response.target).toBe('ant/claude-test');
    expect(server.requestsFor('openai')).toHaveLength(3); // first try + maxRetries (2)
    expect(response.attempts.map((a) => a.errorCode ?? a.outcome)).toEqual(['server_error', 'server_error', 'server_error', 'ok']);
  });

  it('cuts off a slow provider at its timeout and falls back', async () => {
    const slow = { ...openAiText('too late'), delayMs: 1_500 };
    server.enqueue('openai', slow, slow, slow);
    server.enqueue('anthropic', anthropicText('in time'));
    const response = await gateway({}, 200).chat({ model: 'smart', messages: [{ role: 'user', content: 'x' }] });
    expect(response.content).toBe('in time');
    expect(response.attempts.filter((a) => a.errorCode === 'timeout')).toHaveLength(3);
  });

  it('does not retry a 400 (it would fail the same way) but still falls back', async () => {
    server.enqueue('openai', { status: 400, body: { error: { message: 'bad param' } } });
    server.enqueue('anthropic', anthropicText('fine'));
    const response = await gateway().chat({ model: 'smart', messages: [{ role: 'user', content: 'x' }] });
    expect(response.content).toBe('fine');
    expect(server.requestsFor('openai')).toHaveLength(1);
  });

  it('throws all_targets_failed naming every cause when nothing answers', async () => {
    server.enqueue('openai', serverError('openai'), serverError('openai'), serverError('openai'));
    server.enqueue('anthropic', serverError('anthropic', 529), serverError('anthropic', 529));
    const error = await gateway()
      .chat({ model: 'smart', messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'all_targets_failed', retryable: true });
    expect((error as GatewayError).message).toMatch(/oai\/gpt-test: HTTP 500.*ant\/claude-test: HTTP 529/);
  });

  it('stops at once when the caller aborts', async () => {
    server.enqueue('openai', { ...openAiText('never'), delayMs: 1_500 });
    const controller = new AbortController();
    const pending = gateway().chat({ model: 'smart', messages: [{ role: 'user', content: 'x' }] }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(server.requestsFor('anthropic')).toHaveLength(0);
  });

  it('rejects an unknown alias with unknown_model', async () => {
    await expect(gateway().chat({ model: 'nope', messages: [] })).rejects.toMatchObject({ code: 'unknown_model', retryable: false });
  });
});

describe('the built-in model and telemetry', () => {
  it('answers deterministically with JSON that says it comes from the built-in model', async () => {
    const gw = gateway();
    const request = {
      model: 'builtin',
      messages: [{ role: 'user' as const, content: '{"doc":"MSA"}' }],
      metadata: { capability: 'analysis' },
    };
    const a = await gw.chat(request);
    const b = await gw.chat(request);
    expect(a.content).toBe(b.content);
    expect(JSON.parse(a.content!)).toMatchObject({
      model: DETERMINISTIC_MODEL,
      generatedBy: expect.stringContaining('deterministic'),
      capability: 'analysis',
      confidence: expect.any(Number),
    });
    expect(a.costUsd).toBe(0);
    expect(a.usage.inputTokens).toBeGreaterThan(0);
  });

  it('records one CLIENT span per provider call with the gen_ai attributes', async () => {
    server.enqueue('openai', serverError('openai', 503), openAiText('ok', { input: 10, output: 4 }));
    await gateway().chat({ model: 'gpt', messages: [{ role: 'user', content: 'x' }], maxTokens: 50 });
    await processor.forceFlush();
    const spans = exporter.getFinishedSpans().filter((span) => span.name === 'chat gpt-test');
    expect(spans).toHaveLength(2);
    expect(spans[0]?.status.code).toBe(2); // ERROR: the 503
    expect(spans[1]?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-test',
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.model': 'fake-gpt',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 4,
      'gen_ai.response.finish_reasons': ['stop'],
    });
  });
});

describe('costOf', () => {
  it('prices input and output tokens per million', () => {
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 2_000_000 }, { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 })).toBeCloseTo(1.35, 10);
    expect(costOf({ inputTokens: 0, outputTokens: 0 }, { inputUsdPer1M: 5, outputUsdPer1M: 5 })).toBe(0);
  });
});
