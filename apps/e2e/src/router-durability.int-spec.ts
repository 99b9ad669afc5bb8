/**
 * Durability: the router is SIGKILLed ten times at random moments while
 * workflows of every pattern run, and restarted each time. Every workflow must
 * finish with the result of an undisturbed run, no step attempt may be decided
 * twice, and the event log alone must rebuild what the database holds.
 */
import { randomUUID } from 'node:crypto';
import { KafkaBus } from '@baton/bus';
import { RawKafka } from '@baton/bus/testing';
import {
  TOPICS,
  createEnvelope,
  workflowRequested,
  workflowRequestedByName,
  workflowDefinitionSchema,
  type JsonValue,
  type WorkflowDefinitionInput,
} from '@baton/contracts';
import { dropTestSchema, expectEventually, freePort, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { projectWorkflows } from './router-event-log';
import { ALL_CAPABILITIES, TestAgents } from './router-test-agents';
import { agentsAnnounced } from './router-agents-ready';

const API_KEY = 'e2e-test-key-0123456789abcdef';
const KILLS = 10;
const PER_WAVE = 6;

interface WorkflowView {
  id: string;
  status: string;
  output: JsonValue | null;
  error: { code: string } | null;
  steps: Array<{ id: string; status: string; attempt: number; output: JsonValue | null; agentId: string | null }>;
}

const slow = (delayMs: number) => ({ capability: 'slow', params: { delayMs } });
const KINDS: Record<string, WorkflowDefinitionInput> = {
  sequential: {
    name: 'd-sequential',
    pattern: 'sequential',
    steps: [
      { id: 'a', ...slow(150) },
      { id: 'b', ...slow(150) },
      { id: 'c', ...slow(150), input: { original: '$.input', fromA: '$.steps.a.stepId' } },
    ],
  },
  parallel: {
    name: 'd-parallel',
    pattern: 'parallel',
    steps: [
      {
        id: 'p',
        branches: [
          { id: 'x', ...slow(300) },
          {
            id: 'y',
            steps: [
              { id: 'y1', ...slow(100) },
              { id: 'y2', ...slow(100) },
            ],
          },
          { id: 'z', capability: 'echo' },
        ],
        merge: { strategy: 'all' },
      },
      { id: 'after', ...slow(100) },
    ],
  },
  vote: {
    name: 'd-vote',
    pattern: 'parallel',
    steps: [
      {
        id: 'v',
        branches: ['ship', 'hold', 'ship'].map((verdict, i) => ({
          id: `o${i}`,
          capability: 'opinion',
          params: { verdict, delayMs: 100 * i },
        })),
        merge: { strategy: 'vote', field: 'verdict' },
      },
    ],
  },
  merge: {
    name: 'd-merge',
    pattern: 'parallel',
    steps: [
      {
        id: 'm',
        branches: [
          { id: 'l', ...slow(200) },
          { id: 'r', ...slow(100) },
        ],
        merge: { strategy: 'agent', capability: 'reconcile' },
      },
    ],
  },
  hierarchical: {
    name: 'd-hierarchical',
    pattern: 'hierarchical',
    steps: [{ id: 's', supervisor: { capability: 'supervise', maxReworkRounds: 2 } }],
  },
  triggered: {
    name: 'd-triggered',
    pattern: 'event-driven',
    triggers: [{ eventType: 'com.example.deployment.finished' }],
    steps: [
      { id: 'first', ...slow(200) },
      { id: 'second', ...slow(200) },
    ],
  },
};
const KIND_NAMES = Object.keys(KINDS);

const inputFor = (kind: string, i: number): JsonValue =>
  kind === 'hierarchical'
    ? {
        n: i,
        rework: i % 2,
        plan: [
          { id: 'g', capability: 'slow', input: { n: i } },
          { id: 'h', capability: 'echo', dependsOn: ['g'] },
        ],
      }
    : { n: i, kind };

describe('router durability, end to end', () => {
  const infra = testInfra();
  const topicPrefix = `${uniqueName('e2e-durable')}.`;
  const schema = uniqueName('router').replace(/[^a-z0-9_]/g, '_');
  let router: SpawnedApp | undefined;
  let agents: TestAgents;
  let bus: KafkaBus;
  let raw: RawKafka;
  const logs: string[] = [];

  const startRouter = async (): Promise<SpawnedApp> => {
    const port = await freePort();
    const app = await spawnApp({
      name: 'router-durability',
      entry: 'apps/router/src/main.ts',
      port,
      env: {
        KAFKA_BROKERS: infra.kafka.brokers.join(','),
        BATON_TOPIC_PREFIX: topicPrefix,
        ROUTER_PORT: String(port),
        DATABASE_URL: infra.postgres.url,
        ROUTER_DB_SCHEMA: schema,
        BATON_API_KEYS: API_KEY,
        ROUTER_TIMER_INTERVAL_MS: '100',
        // A killed router's partitions move to its successor after this (Kafka's minimum).
        ROUTER_KAFKA_SESSION_TIMEOUT_MS: '6000',
        // Crashes, not timeouts, are under test: no attempt may expire while the router is down.
        ROUTER_DEFAULT_STEP_TIMEOUT_MS: '300000',
      },
    });
    logs.push(app.logFile);
    return app;
  };
  const api = async (path: string, init: RequestInit = {}): Promise<Response> => {
    if (!router) throw new Error('router is down');
    return fetch(`${router.baseUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...(init.headers ?? {}) },
    });
  };
  const workflowOf = async (id: string): Promise<WorkflowView> => (await (await api(`/workflows/${id}`)).json()) as WorkflowView;

  /** Requests go over Kafka, so they are accepted whether or not the router is up. */
  const submit = async (kind: string, i: number): Promise<string> => {
    const workflowId = randomUUID();
    const input = inputFor(kind, i);
    const meta = { source: 'e2e', correlationId: workflowId };
    if (kind === 'triggered') {
      await bus.publish(
        workflowRequestedByName,
        createEnvelope(
          workflowRequestedByName,
          {
            workflowId,
            definitionName: 'd-triggered',
            input,
            requestedBy: 'e2e',
            trigger: { eventType: 'com.example.deployment.finished' },
          },
          meta,
        ),
      );
    } else {
      const definition = workflowDefinitionSchema.parse(KINDS[kind]);
      await bus.publish(workflowRequested, createEnvelope(workflowRequested, { workflowId, definition, input, requestedBy: 'e2e' }, meta));
    }
    return workflowId;
  };

  const allDone = async (ids: readonly string[]): Promise<Map<string, WorkflowView>> =>
    expectEventually(
      async () => {
        const views = await Promise.all(ids.map(workflowOf));
        const open = views.filter((v) => v.status !== 'completed');
        expect(open.map((v) => `${v.id}:${v.status}`)).toEqual([]);
        return new Map(views.map((v) => [v.id, v]));
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );

  beforeAll(async () => {
    // The router creates the topics; starting the agents after it avoids racing its topic creation.
    router = await startRouter();
    agents = new TestAgents({ brokers: infra.kafka.brokers, topicPrefix });
    await agents.start();
    await agentsAnnounced(router.baseUrl, API_KEY, ALL_CAPABILITIES);
    bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-durability', topicPrefix });
    await bus.connect();
    raw = new RawKafka(infra.kafka.brokers);
    const registered = await api('/definitions', { method: 'POST', body: JSON.stringify(KINDS['triggered']) });
    expect(registered.status).toBe(201);
  });

  afterAll(async () => {
    await Promise.allSettled([router?.stop(), agents?.stop(), bus?.disconnect(), raw?.close()]);
    await dropTestSchema(infra.postgres.url, schema);
  });

  it(`finishes every workflow of every pattern with the undisturbed result through ${KILLS} SIGKILLs, deciding no attempt twice; the event log rebuilds the database`, async () => {
    const started = Date.now();
    // Undisturbed reference run of the same workflows.
    const plan = Array.from({ length: KILLS * PER_WAVE }, (_, i) => ({ kind: KIND_NAMES[i % KIND_NAMES.length] ?? 'sequential', i }));
    const referenceIds = await Promise.all(plan.map(({ kind, i }) => submit(kind, i)));
    const reference = await allDone(referenceIds);
    const referenceMs = Date.now() - started;

    // The same workflows again, submitted in waves, with a SIGKILL at a random moment of each wave.
    const disturbedIds: string[] = [];
    const killDelays: number[] = [];
    for (let wave = 0; wave < KILLS; wave += 1) {
      for (const { kind, i } of plan.slice(wave * PER_WAVE, (wave + 1) * PER_WAVE)) disturbedIds.push(await submit(kind, i));
      const delay = 100 + Math.floor(Math.random() * 1200);
      killDelays.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      await router?.kill('SIGKILL');
      expect(router?.exitStatus()).toBe('signal SIGKILL');
      router = await startRouter();
    }
    const killsMs = Date.now() - started;
    const disturbed = await allDone(disturbedIds);

    plan.forEach((_, index) => {
      const before = reference.get(referenceIds[index] ?? '');
      const after = disturbed.get(disturbedIds[index] ?? '');
      expect(after?.output).toEqual(before?.output);
      expect(after?.steps.map((s) => [s.id, s.status, s.attempt, s.output])).toEqual(
        before?.steps.map((s) => [s.id, s.status, s.attempt, s.output]),
      );
    });

    // Each step attempt was decided once: one task.assigned envelope (redeliveries share its id).
    const byAttempt = new Map<string, Set<string>>();
    agents.assigned.forEach((task, index) => {
      const key = `${task.workflowId}/${task.stepId}/${task.attempt}`;
      const ids = byAttempt.get(key) ?? new Set<string>();
      ids.add(agents.assignedIds[index] ?? '');
      byAttempt.set(key, ids);
    });
    const twice = [...byAttempt].filter(([, ids]) => ids.size > 1).map(([key]) => key);
    expect(twice).toEqual([]);
    const redelivered = agents.assigned.length - byAttempt.size;

    // The log alone rebuilds every workflow as the database has it.
    const all = [...referenceIds, ...disturbedIds];
    const wanted = new Set(all);
    const records = await raw.readUntil(
      `${topicPrefix}${TOPICS.workflowEvents}`,
      (messages) => {
        const done = new Set<string>();
        for (const m of messages) if (m.value.includes('"workflow.completed"') && m.key && wanted.has(m.key)) done.add(m.key);
        return done.size === wanted.size;
      },
      60_000,
    );
    const projected = projectWorkflows(records.filter((m) => m.key !== null && wanted.has(m.key)).map((m) => m.value));
    for (const id of all) {
      const view = disturbed.get(id) ?? reference.get(id);
      const fromLog = projected.get(id);
      expect({ id, status: fromLog?.status, output: fromLog?.output }).toEqual({ id, status: view?.status, output: view?.output });
      const logSteps = Object.entries(fromLog?.steps ?? {})
        .map(([stepId, s]) => [stepId, s.status, s.attempt, s.output, s.agentId])
        .sort();
      const dbSteps = (view?.steps ?? []).map((s) => [s.id, s.status, s.attempt, s.output, s.agentId]).sort();
      expect(logSteps).toEqual(dbSteps);
    }
    console.log(
      `router durability: ${plan.length} workflows x2, ${KILLS} SIGKILLs after ${killDelays.join('/')} ms, ` +
        `${redelivered} task redeliveries deduped, ${records.length} log records; reference run ${referenceMs} ms, ` +
        `kills done at ${killsMs} ms, total ${Date.now() - started} ms`,
    );
  }, 400_000);
});
