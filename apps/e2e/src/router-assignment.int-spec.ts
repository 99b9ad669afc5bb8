/**
 * The agent registry and assignment end to end: scripted test agents in
 * several teams heartbeat; the router chooses by capability, policy and load,
 * parks what nobody can take as waiting_for_agent, and moves the tasks of an
 * agent that stops heartbeating.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowDefinitionInput } from '@baton/contracts';
import { dropTestSchema, expectEventually, freePort, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { TestAgents } from './router-test-agents';

const API_KEY = 'e2e-test-key-0123456789abcdef';

interface StepView {
  id: string;
  status: string;
  attempt: number;
  agentId: string | null;
  waitReason: string | null;
}
interface WorkflowView {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
  steps: StepView[];
}
interface AgentView {
  agentId: string;
  team: string;
  load: number;
  live: boolean;
  maxConcurrency: number;
}

describe('router assignment, end to end', () => {
  const infra = testInfra();
  const routerSchema = uniqueName('router').replace(/[^a-z0-9_]/g, '_');
  const topicPrefix = `${uniqueName('e2e-assign')}.`;
  let router: SpawnedApp;
  let agents: TestAgents;
  let folder: string;

  const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${router.baseUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...(init.headers ?? {}) },
    });
  const workflowOf = async (id: string): Promise<WorkflowView> => (await (await api(`/workflows/${id}`)).json()) as WorkflowView;
  const agentsView = async (): Promise<AgentView[]> => (await (await api('/agents')).json()) as AgentView[];
  const run = async (definition: WorkflowDefinitionInput, input: unknown = {}): Promise<string> => {
    const response = await api('/workflows', { method: 'POST', body: JSON.stringify({ definition, input }) });
    expect(response.status).toBe(202);
    return ((await response.json()) as WorkflowView).id;
  };
  const settled = async (id: string, status = 'completed'): Promise<WorkflowView> =>
    expectEventually(
      async () => {
        const view = await workflowOf(id);
        expect(view.status).toBe(status);
        return view;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  const oneStep = (name: string, capability: string, extra: object = {}): WorkflowDefinitionInput => ({
    name,
    pattern: 'sequential',
    steps: [{ id: 'only', capability, ...extra }],
  });

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'router-policies-'));
    const policyFile = join(folder, 'policies.yaml');
    await writeFile(
      policyFile,
      [
        'version: 1',
        'policies:',
        '  - id: finance-data',
        '    effect: allow',
        '    subjects: { teams: [finance] }',
        '    scopes: [finance.*]',
      ].join('\n'),
    );
    agents = new TestAgents({
      brokers: infra.kafka.brokers,
      topicPrefix,
      heartbeatIntervalMs: 300,
      agents: [
        { agentId: 'slow-a', team: 'ops', capabilities: ['slow'], maxConcurrency: 1 },
        { agentId: 'slow-b', team: 'ops', capabilities: ['slow'], maxConcurrency: 1 },
        { agentId: 'fin-1', team: 'finance', capabilities: ['echo'], scopes: ['finance.ledger'], maxConcurrency: 5 },
        { agentId: 'ops-1', team: 'ops', capabilities: ['echo'], scopes: ['finance.ledger'], maxConcurrency: 5 },
        { agentId: 'sticky-1', team: 'ops', capabilities: ['opinion'], maxConcurrency: 5 },
        { agentId: 'sticky-2', team: 'ops', capabilities: ['opinion'], maxConcurrency: 5 },
      ],
    });
    await agents.start();
    const port = await freePort();
    router = await spawnApp({
      name: 'router-assignment',
      entry: 'apps/router/src/main.ts',
      port,
      env: {
        KAFKA_BROKERS: infra.kafka.brokers.join(','),
        BATON_TOPIC_PREFIX: topicPrefix,
        ROUTER_PORT: String(port),
        DATABASE_URL: infra.postgres.url,
        ROUTER_DB_SCHEMA: routerSchema,
        BATON_API_KEYS: API_KEY,
        ROUTER_POLICY_FILE: policyFile,
        ROUTER_AGENT_TIMEOUT_MS: '2000',
        ROUTER_TIMER_INTERVAL_MS: '50',
      },
    });
    await expectEventually(async () => expect((await agentsView()).filter((a) => a.live)).toHaveLength(6), { timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await Promise.allSettled([router?.stop(), agents?.stop()]);
    await dropTestSchema(infra.postgres.url, routerSchema);
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('lists agents with team, liveness and live load; never overloads; a waiting step runs when an agent frees up', async () => {
    const slow = oneStep('slow-one', 'slow', { params: { delayMs: 2500 } });
    const first = await run(slow);
    const second = await run(slow);
    await expectEventually(async () => {
      const byId = new Map((await agentsView()).map((a) => [a.agentId, a]));
      expect([byId.get('slow-a')?.load, byId.get('slow-b')?.load]).toEqual([1, 1]);
    });
    const third = await run(slow);
    const waiting = await workflowOf(third);
    expect(waiting.steps[0]).toMatchObject({
      status: 'waiting_for_agent',
      agentId: null,
      waitReason: 'all 2 eligible agent(s) for "slow" are at max concurrency',
    });
    const views = await Promise.all([settled(first), settled(second), settled(third)]);
    // The first two took one agent each (ties broken by id); the third went to whichever freed up.
    expect(
      views
        .slice(0, 2)
        .map((v) => v.steps[0]?.agentId)
        .sort(),
    ).toEqual(['slow-a', 'slow-b']);
    expect(['slow-a', 'slow-b']).toContain(views[2]?.steps[0]?.agentId);
  });

  it('assigns scoped work only to an agent the policy permits, and times out when nobody is', async () => {
    const permitted = await settled(await run(oneStep('ledger', 'echo', { scopes: ['finance.ledger'] })));
    expect(permitted.steps[0]?.agentId).toBe('fin-1');

    const unscoped = await settled(await run(oneStep('plain', 'echo')));
    expect(unscoped.steps[0]?.agentId).toBe('fin-1');

    const forbidden = await run({ ...oneStep('secret', 'echo', { scopes: ['hr.salaries'] }), agentWaitTimeoutMs: 1500 });
    const parked = await workflowOf(forbidden);
    expect(parked.steps[0]?.status).toBe('waiting_for_agent');
    expect(parked.steps[0]?.waitReason).toMatch(/does not handle scope "hr.salaries"/);
    const failed = await settled(forbidden, 'failed');
    expect(failed.error).toMatchObject({ code: 'no_eligible_agent' });

    // A capability no agent ever announced is refused at submission (ROUTER_REJECT_UNKNOWN_CAPABILITIES, default on).
    const unknown = await api('/workflows', {
      method: 'POST',
      body: JSON.stringify({ definition: oneStep('nobody', 'astrology'), input: {} }),
    });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({
      issues: ['steps[0].capability: unknown capability "astrology" (no agent has announced it)'],
    });
  });

  it('moves the task of an agent that stops heartbeating to another agent, keeping the task id', async () => {
    agents.silence('sticky-1');
    const id = await run(oneStep('sticky', 'opinion', { params: { verdict: 'yes' } }));
    await expectEventually(() => expect(agents.assigned.filter((t) => t.workflowId === id).map((t) => t.agentId)).toContain('sticky-1'));
    const view = await settled(id);
    expect(view.steps[0]).toMatchObject({ agentId: 'sticky-2', attempt: 1 });
    const sent = agents.assigned.filter((t) => t.workflowId === id);
    expect(sent.map((t) => t.agentId)).toEqual(['sticky-1', 'sticky-2']);
    expect(new Set(sent.map((t) => t.taskId)).size).toBe(1);
    expect(agents.cancelled.filter((c) => c.workflowId === id)).toEqual([
      expect.objectContaining({ agentId: 'sticky-1', reason: 'superseded' }),
    ]);
    await expectEventually(async () => expect((await agentsView()).find((a) => a.agentId === 'sticky-1')?.live).toBe(false));
  });
});
