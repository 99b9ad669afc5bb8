import { ContractValidationError } from '@baton/contracts';
import { builtinGatewayConfig, parseGatewayConfig } from './config';
import { parseRetryAfter } from './providers/http';

const price = { inputUsdPer1M: 1, outputUsdPer1M: 2 };

function issuesOf(raw: unknown, env: Record<string, string> = {}): readonly string[] {
  try {
    parseGatewayConfig(raw, env);
  } catch (error) {
    if (error instanceof ContractValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('parseGatewayConfig', () => {
  it('switching provider is configuration only: the same alias may point at OpenAI or Anthropic', () => {
    const config = parseGatewayConfig(
      {
        providers: {
          openai: { kind: 'openai', baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY', models: { 'gpt-4o-mini': price } },
          anthropic: {
            kind: 'anthropic',
            baseUrl: 'https://api.anthropic.com',
            apiKeyEnv: 'ANTHROPIC_API_KEY',
            models: { 'claude-haiku': price },
          },
        },
        aliases: { default: ['anthropic/claude-haiku', 'openai/gpt-4o-mini'] },
      },
      { OPENAI_API_KEY: 'a', ANTHROPIC_API_KEY: 'b' },
    );
    expect(config.apiKeys).toEqual({ openai: 'a', anthropic: 'b' });
    expect(config.providers['openai']).toMatchObject({ timeoutMs: 60_000, maxRetries: 2 });
    expect(config.retry).toEqual({ baseDelayMs: 250, maxDelayMs: 10_000 });
  });

  it('names the path of each problem', () => {
    expect(
      issuesOf({
        providers: { p: { kind: 'openai', baseUrl: 'not a url', models: { m: { inputUsdPer1M: -1, outputUsdPer1M: 1 } } } },
        aliases: {},
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^providers\.p\.baseUrl: /),
        expect.stringMatching(/^providers\.p\.models\.m\.inputUsdPer1M: /),
      ]),
    );
    expect(issuesOf({ providers: { p: { kind: 'gemini' } }, aliases: {} })).toEqual([expect.stringMatching(/^providers\.p\.kind: /)]);
  });

  it('rejects aliases pointing at unknown providers or unpriced models, and missing API keys', () => {
    expect(
      issuesOf({
        providers: { p: { kind: 'openai', baseUrl: 'http://x/v1', apiKeyEnv: 'MISSING_KEY', models: { m: price } } },
        aliases: { fast: ['p/m', 'q/m', 'p/unpriced'] },
      }),
    ).toEqual([
      'providers.p.apiKeyEnv: environment variable MISSING_KEY is not set',
      'aliases.fast[1]: unknown provider "q"',
      'aliases.fast[2]: provider "p" lists no model "unpriced" (add it with its prices)',
    ]);
  });

  it('has a built-in default with the deterministic model, free of charge', () => {
    const config = builtinGatewayConfig();
    expect(config.aliases['default']).toEqual(['builtin/baton-deterministic-v1']);
  });
});

describe('parseRetryAfter', () => {
  it('reads retry-after-ms, seconds and HTTP dates', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(parseRetryAfter(new Headers({ 'retry-after': '2' }))).toBe(2_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3_000);
    expect(parseRetryAfter(new Headers({}))).toBeUndefined();
  });
});
