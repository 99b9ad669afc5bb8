/**
 * Scale on this two-core machine: 1,000 workflows at once over 50 agents in 10
 * teams (no-op agents with bounded concurrency), none failed, none stuck.
 * Prints its duration; asserts no timing.
 */
import { randomUUID } from 'node:crypto';
import { KafkaBus } from '@baton/bus';
import { createEnvelope, workflowDefinitionSchema, workflowRequested } from '@baton/contracts';
import { dropTestSchema, expectEventually, freePort, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { TestAgents } from './router-test-agents';
import { agentsAnnounced } from './router-agents-ready';

const API_KEY = 'e2e-test-key-0123456789abcdef';
const WORKFLOWS = 1_000;
const AGENTS = 50;
const TEAMS = 10;

describe('router scale, end to end', () => {
  const infra = testInfra();
  const routerSchema = uniqueName('router').replace(/[^a-z0-9_]/g, '_');
  const topicPrefix = `${uniqueName('e2e-scale')}.`;
  let router: SpawnedApp;
  let agents: TestAgents;
  let bus: KafkaBus;

  beforeAll(async () => {
    const port = await freePort();
    router = await spawnApp({
      name: 'router-scale',
      entry: 'apps/router/src/main.ts',
      port,
      env: {
        KAFKA_BROKERS: infra.kafka.brokers.join(','),
        BATON_TOPIC_PREFIX: topicPrefix,
        ROUTER_PORT: String(port),
        DATABASE_URL: infra.postgres.url,
        ROUTER_DB_SCHEMA: routerSchema,
        BATON_API_KEYS: API_KEY,
        BATON_LOG_LEVEL: 'warn',
        ROUTER_TIMER_INTERVAL_MS: '100',
        ROUTER_DEFAULT_STEP_TIMEOUT_MS: '300000',
      },
    });
    agents = new TestAgents({
      brokers: infra.kafka.brokers,
      topicPrefix,
      agents: Array.from({ length: AGENTS }, (_, i) => ({
        agentId: `agent-${String(i).padStart(2, '0')}`,
        team: `team-${i % TEAMS}`,
        capabilities: ['echo', 'opinion'],
        maxConcurrency: 4,
      })),
    });
    await agents.start();
    await agentsAnnounced(router.baseUrl, API_KEY, ['opinion']);
    bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-scale', topicPrefix });
    await bus.connect();
  });

  afterAll(async () => {
    await Promise.allSettled([router?.stop(), agents?.stop(), bus?.disconnect()]);
    await dropTestSchema(infra.postgres.url, routerSchema);
  });

  it(`runs ${WORKFLOWS} workflows at once over ${AGENTS} agents in ${TEAMS} teams without an error or a stuck workflow`, async () => {
    const definition = workflowDefinitionSchema.parse({
      name: 'scale',
      pattern: 'sequential',
      // One step each keeps the run inside the CI budget; bench:router measures longer workflows.
      steps: [{ id: 'a', capability: 'opinion', params: { verdict: 'x' } }],
    });
    const started = Date.now();
    const ids = Array.from({ length: WORKFLOWS }, () => randomUUID());
    await Promise.all(
      ids.map((workflowId) =>
        bus.publish(
          workflowRequested,
          createEnvelope(
            workflowRequested,
            { workflowId, definition, input: {}, requestedBy: 'e2e' },
            { source: 'e2e', correlationId: workflowId },
          ),
        ),
      ),
    );
    const statusCounts = async (): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {};
      for (let i = 0; i < ids.length; i += 100) {
        const views = await Promise.all(
          ids.slice(i, i + 100).map(async (id) => {
            const response = await fetch(`${router.baseUrl}/workflows/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
            return response.status === 200 ? ((await response.json()) as { status: string }).status : `http ${response.status}`;
          }),
        );
        for (const status of views) counts[status] = (counts[status] ?? 0) + 1;
      }
      return counts;
    };
    await expectEventually(async () => expect(await statusCounts()).toEqual({ completed: WORKFLOWS }), {
      timeoutMs: 200_000,
      intervalMs: 2_000,
    });
    const used = new Set(agents.assigned.map((task) => task.agentId));
    expect(used.size).toBeGreaterThanOrEqual(AGENTS / 2);
    console.log(
      `router scale: ${WORKFLOWS} workflows x 1 step over ${AGENTS} agents / ${TEAMS} teams in ${Date.now() - started} ms; ${used.size} agents used`,
    );
  }, 240_000);
});
