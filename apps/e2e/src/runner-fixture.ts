/**
 * What an end-to-end test needs to start an agent-runner on a fake model
 * server, or a context-graph, as real processes: a folder of agent definitions
 * with a gateway config that points one OpenAI-compatible provider at the
 * server, and the context-graph's environment.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnApp, type SpawnedApp, type TestInfra } from '@baton/testing';

export interface RunnerFixture {
  /** RUNNER_AGENTS_DIR */
  agentsDir: string;
  /** BATON_GATEWAY_CONFIG */
  gatewayConfig: string;
}

export interface RunnerFixtureOptions {
  /** File name → agent definition (YAML). */
  agents: Record<string, string>;
  openAiBaseUrl: string;
  /** The alias agents name as `model`, served by `oai/<model>`. */
  alias: string;
  model: string;
  /** Price per 1M tokens, input and output alike. */
  usdPer1M?: number;
  apiKeyEnv?: string;
}

export function writeRunnerFixture(options: RunnerFixtureOptions): RunnerFixture {
  const dir = mkdtempSync(join(tmpdir(), 'baton-e2e-runner-'));
  const agentsDir = join(dir, 'agents');
  mkdirSync(agentsDir);
  for (const [file, text] of Object.entries(options.agents)) writeFileSync(join(agentsDir, file), text);
  const price = options.usdPer1M ?? 1;
  const gatewayConfig = join(dir, 'gateway.json');
  writeFileSync(
    gatewayConfig,
    JSON.stringify({
      providers: {
        oai: {
          kind: 'openai',
          baseUrl: options.openAiBaseUrl,
          ...(options.apiKeyEnv ? { apiKeyEnv: options.apiKeyEnv } : {}),
          models: { [options.model]: { inputUsdPer1M: price, outputUsdPer1M: price } },
        },
      },
      aliases: { [options.alias]: [`oai/${options.model}`] },
    }),
  );
  return { agentsDir, gatewayConfig };
}

/** A context-graph process on the test's Kafka (topic prefix) and Neo4j. */
export function spawnContextGraph(
  infra: TestInfra,
  topicPrefix: string,
  apiKey: string,
  env: Record<string, string> = {},
): Promise<SpawnedApp> {
  return spawnApp({
    name: 'context-graph',
    entry: 'apps/context-graph/src/main.ts',
    env: {
      KAFKA_BROKERS: infra.kafka.brokers.join(','),
      BATON_TOPIC_PREFIX: topicPrefix,
      NEO4J_URI: infra.neo4j.uri,
      NEO4J_USER: infra.neo4j.user,
      NEO4J_PASSWORD: infra.neo4j.password,
      BATON_API_KEYS: apiKey,
      ...env,
    },
  });
}
