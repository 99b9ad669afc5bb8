/**
 * An agent written outside Baton joins by speaking the topics: a plain Node
 * process (external-agent/external-agent.cjs, kafkajs + the published AsyncAPI
 * schemas, nothing from this repository) heartbeats, takes the workflow step
 * for its capability from the real router, and the workflow completes; the
 * agent runner next to it leaves that step alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { dropTestSchema, expectEventually, freePort, spawnApp, TEST_LOG_DIR, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { agentsAnnounced } from './router-agents-ready';

const API_KEY = 'e2e-external-key-0123456789abcdef';
const REPO_ROOT = join(__dirname, '..', '..', '..');

interface StepView {
  id: string;
  status: string;
  agentId: string | null;
  output: unknown;
  confidence: number | null;
}

describe('an external agent speaking the topics, end to end', () => {
  const infra = testInfra();
  const routerSchema = uniqueName('router_ext').replace(/[^a-z0-9_]/g, '_');
  const topicPrefix = `${uniqueName('e2e-ext')}.`;
  let router: SpawnedApp;
  let runner: SpawnedApp;
  let agent: ChildProcess;
  let agentLog: string;

  beforeAll(async () => {
    const common = { KAFKA_BROKERS: infra.kafka.brokers.join(','), BATON_TOPIC_PREFIX: topicPrefix };
    // Each assigned as soon as it runs, so afterAll stops it even when the other failed to start.
    const started = await Promise.allSettled([
      spawnApp({
        name: 'router',
        entry: 'apps/router/src/main.ts',
        env: {
          ...common,
          DATABASE_URL: infra.postgres.url,
          ROUTER_DB_SCHEMA: routerSchema,
          BATON_API_KEYS: API_KEY,
        },
      }).then((app) => (router = app)),
      spawnApp({
        name: 'agent-runner',
        entry: 'apps/agent-runner/src/main.ts',
        env: { ...common, RUNNER_INSTANCE_ID: 'e2e-ext-runner' },
      }).then((app) => (runner = app)),
    ]);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;

    // The published schemas, as JSON (any language has a YAML parser; the agent needs only the JSON).
    const dir = mkdtempSync(join(tmpdir(), 'external-agent-'));
    const asyncApiJson = join(dir, 'asyncapi.json');
    writeFileSync(asyncApiJson, JSON.stringify(parseYaml(readFileSync(join(REPO_ROOT, 'libs/contracts/asyncapi.yaml'), 'utf8'))));
    const port = await freePort();
    mkdirSync(TEST_LOG_DIR, { recursive: true });
    agentLog = join(TEST_LOG_DIR, `external-agent-${port}.log`);
    const fd = openSync(agentLog, 'a');
    // Plain `node`, no TypeScript loader, no Baton code.
    agent = spawn(process.execPath, [join(REPO_ROOT, 'apps/e2e/src/external-agent/external-agent.cjs')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...common,
        ASYNCAPI_JSON: asyncApiJson,
        AGENT_ID: 'external-translator',
        AGENT_CAPABILITY: 'translation',
        PORT: String(port),
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    await expectEventually(
      async () => {
        expect(agent.exitCode).toBeNull();
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        expect(response?.status).toBe(200);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // The runner has learnt of the external agent from its heartbeats, so it leaves its steps alone.
    await expectEventually(() => expect(runner.logTail(400)).toContain('peer agent seen'), { timeoutMs: 30_000, intervalMs: 200 });
    await agentsAnnounced(router.baseUrl, API_KEY, ['extraction', 'translation']);
  });

  afterAll(async () => {
    agent?.kill('SIGTERM');
    await Promise.allSettled([router?.stop(), runner?.stop()]);
    await dropTestSchema(infra.postgres.url, routerSchema);
  });

  it('executes a workflow step through the real router, next to a runner-hosted step', async () => {
    const submitted = await fetch(`${router.baseUrl}/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({
        definition: {
          name: 'localize',
          pattern: 'sequential',
          steps: [
            { id: 'extract', capability: 'extraction' },
            { id: 'translate', capability: 'translation' },
          ],
        },
        input: { document: 'Bonjour contract' },
      }),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };

    let view: { status: string; steps: StepView[] } | undefined;
    await expectEventually(
      async () => {
        const response = await fetch(`${router.baseUrl}/workflows/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } });
        view = (await response.json()) as { status: string; steps: StepView[] };
        expect(view.status).toBe('completed');
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const steps = Object.fromEntries(view!.steps.map((step) => [step.id, step]));
    expect(steps['extract']).toMatchObject({ status: 'completed', agentId: 'builtin-clerk' });
    expect(steps['translate']).toMatchObject({
      status: 'completed',
      agentId: 'external-translator',
      confidence: 0.88,
      output: { translatedBy: 'external-translator', language: 'fr' },
    });
    expect(readFileSync(agentLog, 'utf8')).toContain('task completed');
  });
});
