/**
 * A router and an agent-runner as real processes on the test's Kafka (own
 * topic prefix) and Postgres (own schema), exporting their telemetry over
 * OTLP/HTTP (JSON) to a collector the test runs.
 */
import { dropTestSchema, freePort, spawnApp, type SpawnedApp, type TestInfra, uniqueName } from '@baton/testing';
import { agentsAnnounced } from './router-agents-ready';
import type { RunnerFixture } from './runner-fixture';

export interface ObservedServices {
  router: SpawnedApp;
  runner: SpawnedApp;
  topicPrefix: string;
  /** Stops both and drops the router's schema. */
  stop(): Promise<void>;
}

export interface ObservedServicesOptions {
  /** Names the topic prefix and schema. */
  name: string;
  collectorUrl: string;
  apiKey: string;
  runnerFixture: RunnerFixture;
  /** Capabilities the router must know (from the runner's heartbeats) before this resolves. */
  capabilities: readonly string[];
  /** More of the router's environment, e.g. ROUTER_POLICY_FILE. */
  routerEnv?: Record<string, string>;
}

export async function startObservedServices(infra: TestInfra, options: ObservedServicesOptions): Promise<ObservedServices> {
  const routerSchema = uniqueName(`router_${options.name}`).replace(/[^a-z0-9_]/g, '_');
  const topicPrefix = `${uniqueName(`e2e-${options.name}`)}.`;
  const common = {
    KAFKA_BROKERS: infra.kafka.brokers.join(','),
    BATON_TOPIC_PREFIX: topicPrefix,
    OTEL_EXPORTER_OTLP_ENDPOINT: options.collectorUrl,
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    // Spans leave in batches; a short delay keeps the tests' waits short.
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
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
      env: {
        ...common,
        RUNNER_PORT: String(runnerPort),
        RUNNER_AGENTS_DIR: options.runnerFixture.agentsDir,
        BATON_GATEWAY_CONFIG: options.runnerFixture.gatewayConfig,
        RUNNER_CONTEXT_TIMEOUT_MS: '500',
      },
    }),
  ]);
  for (const outcome of started) if (outcome.status === 'fulfilled') spawned.push(outcome.value);
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [router, runner] = spawned as [SpawnedApp, SpawnedApp];
  await agentsAnnounced(router.baseUrl, options.apiKey, options.capabilities);
  return { router, runner, topicPrefix, stop };
}
