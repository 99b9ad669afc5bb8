/**
 * A router and an agent-runner as real processes on the test's Kafka (own topic
 * prefix) and Postgres (own schema), resolved once the router knows the
 * capabilities the test needs. With a collector URL both export their telemetry
 * over OTLP/HTTP (JSON) to it.
 */
import { dropTestSchema, freePort, spawnApp, type SpawnedApp, type TestInfra, uniqueName } from '@baton/testing';
import { agentsAnnounced } from './router-agents-ready';
import type { RunnerFixture } from './runner-fixture';

export interface RouterAndRunner {
  router: SpawnedApp;
  runner: SpawnedApp;
  topicPrefix: string;
  routerSchema: string;
  /** Stops both and drops the router's schema. */
  stop(): Promise<void>;
}

export interface RouterAndRunnerOptions {
  /** Names the topic prefix and schema. */
  name: string;
  apiKey: string;
  /** Capabilities the router must know (from the runner's heartbeats) before this resolves. */
  capabilities: readonly string[];
  /** Agents on a fake model server; without it the runner hosts its built-in agents. */
  runnerFixture?: RunnerFixture;
  /** OTLP/HTTP base URL of a collector the test runs. */
  collectorUrl?: string;
  routerEnv?: Record<string, string>;
  runnerEnv?: Record<string, string>;
}

export async function startRouterAndRunner(infra: TestInfra, options: RouterAndRunnerOptions): Promise<RouterAndRunner> {
  const routerSchema = uniqueName(`router_${options.name}`).replace(/[^a-z0-9_]/g, '_');
  const topicPrefix = `${uniqueName(`e2e-${options.name}`)}.`;
  const telemetry: Record<string, string> = options.collectorUrl
    ? {
        OTEL_EXPORTER_OTLP_ENDPOINT: options.collectorUrl,
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        // Spans leave in batches; a short delay keeps the tests' waits short.
        OTEL_BSP_SCHEDULE_DELAY: '200',
      }
    : {};
  const common = { KAFKA_BROKERS: infra.kafka.brokers.join(','), BATON_TOPIC_PREFIX: topicPrefix, ...telemetry };
  const fixture: Record<string, string> = options.runnerFixture
    ? { RUNNER_AGENTS_DIR: options.runnerFixture.agentsDir, BATON_GATEWAY_CONFIG: options.runnerFixture.gatewayConfig }
    : {};
  const [routerPort, runnerPort] = [await freePort(), await freePort()];
  const spawned: SpawnedApp[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(spawned.map((app) => app.stop()));
    await dropTestSchema(infra.postgres.url, routerSchema);
  };
  const started = await Promise.allSettled([
    spawnApp({
      name: 'router',
      entry: 'apps/router/src/main.ts',
      port: routerPort,
      env: {
        ...common,
        ROUTER_PORT: String(routerPort),
        DATABASE_URL: infra.postgres.url,
        ROUTER_DB_SCHEMA: routerSchema,
        BATON_API_KEYS: options.apiKey,
        ...options.routerEnv,
      },
    }),
    spawnApp({
      name: 'agent-runner',
      entry: 'apps/agent-runner/src/main.ts',
      port: runnerPort,
      env: { ...common, RUNNER_PORT: String(runnerPort), RUNNER_CONTEXT_TIMEOUT_MS: '500', ...fixture, ...options.runnerEnv },
    }),
  ]);
  for (const outcome of started) if (outcome.status === 'fulfilled') spawned.push(outcome.value);
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [router, runner] = spawned as [SpawnedApp, SpawnedApp];
  try {
    await agentsAnnounced(router.baseUrl, options.apiKey, options.capabilities);
  } catch (error) {
    await stop();
    throw error;
  }
  return { router, runner, topicPrefix, routerSchema, stop };
}
