import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunnerConfig } from './runner-config';

const base = { KAFKA_BROKERS: 'localhost:9092' };

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'runner-config-'));
}

describe('loadRunnerConfig', () => {
  it('defaults to the shipped built-in agents on the built-in model', () => {
    const config = loadRunnerConfig(base);
    expect(config.agents.map((agent) => agent.id).sort()).toEqual(['builtin-analyst', 'builtin-clerk']);
    expect(config.gateway.aliases['builtin']).toEqual(['builtin/baton-deterministic-v1']);
  });

  it('defaults the ask_human wait and the context bounds, and rejects bad values naming the variable', () => {
    const config = loadRunnerConfig(base);
    expect(config.askHumanTimeoutMs).toBe(15 * 60_000);
    expect(config.context).toEqual({ hops: 2, maxFacts: 20, maxBytes: 8_192, timeoutMs: 2_000 });
    expect(loadRunnerConfig({ ...base, RUNNER_ASK_HUMAN_TIMEOUT_MS: '500', RUNNER_CONTEXT_MAX_FACTS: '0' })).toMatchObject({
      askHumanTimeoutMs: 500,
      context: { maxFacts: 0 },
    });
    expect(() => loadRunnerConfig({ ...base, RUNNER_ASK_HUMAN_TIMEOUT_MS: 'soon' })).toThrow(/RUNNER_ASK_HUMAN_TIMEOUT_MS/);
    expect(() => loadRunnerConfig({ ...base, RUNNER_CONTEXT_HOPS: '7' })).toThrow(/RUNNER_CONTEXT_HOPS/);
  });

  it('rejects an agent whose model alias the gateway does not know, naming the agent', () => {
    const dir = folder();
    writeFileSync(
      join(dir, 'a.yaml'),
      'id: a\nteam: t\ncapabilities: [x]\nmodel: gpt-9\nsystemPrompt: p\noutputSchema: {}\nmaxConcurrency: 1\n',
    );
    expect(() => loadRunnerConfig({ ...base, RUNNER_AGENTS_DIR: dir })).toThrow(/agent a: model: "gpt-9" is not an alias/);
  });

  it('rejects a gateway configuration naming a missing API key variable, and a missing agents folder', () => {
    const dir = folder();
    const gateway = join(dir, 'gateway.yaml');
    writeFileSync(
      gateway,
      'providers:\n  oai:\n    kind: openai\n    baseUrl: https://api.openai.com/v1\n    apiKeyEnv: NOT_SET_ANYWHERE\n    models: { m: { inputUsdPer1M: 1, outputUsdPer1M: 1 } }\naliases: { default: [oai/m] }\n',
    );
    expect(() => loadRunnerConfig({ ...base, BATON_GATEWAY_CONFIG: gateway })).toThrow(
      /providers\.oai\.apiKeyEnv: environment variable NOT_SET_ANYWHERE is not set/,
    );
    const empty = join(dir, 'nothing-here');
    mkdirSync(empty);
    expect(() => loadRunnerConfig({ ...base, RUNNER_AGENTS_DIR: join(dir, 'missing') })).toThrow(/cannot read agent definitions/);
    expect(() => loadRunnerConfig({ ...base, RUNNER_AGENTS_DIR: empty })).toThrow(/no agent definition files/);
  });
});
