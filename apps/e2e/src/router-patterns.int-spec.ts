/**
 * The router's orchestration patterns end to end: the router runs as a real
 * process on real Kafka and Postgres, the agents are the scripted test agents
 * (router-test-agents.ts), and each pattern is checked by what the router
 * persisted and what reached the agents.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus } from '@baton/bus';
import { RawKafka } from '@baton/bus/testing';
import { TOPICS, createEnvelope, dlqTopic, workflowRequestedByName, type WorkflowDefinitionInput } from '@baton/contracts';
import { dropTestSchema, expectEventually, freePort, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { ALL_CAPABILITIES, TestAgents } from './router-test-agents';
import { agentsAnnounced } from './router-agents-ready';

const API_KEY = 'e2e-test-key-0123456789abcdef';

interface StepView {
  id: string;
  capability: string;
  status: string;
  attempt: number;
  output: unknown;
  error: { code: string } | null;
  dispatchedAt: string | null;
  completedAt: string | null;
}
interface WorkflowView {
  id: string;
  status: string;
  output: unknown;
  error: { code: string; message: string } | null;
  steps: StepView[];
}

describe('router patterns, end to end', () => {
  const infra = testInfra();
  const routerSchema = uniqueName('router').replace(/[^a-z0-9_]/g, '_');
  const topicPrefix = `${uniqueName('e2e-router')}.`;
  let router: SpawnedApp;
  let agents: TestAgents;
  let folder: string;

  const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${router.baseUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...(init.headers ?? {}) },
    });

  const workflowOf = async (id: string): Promise<WorkflowView> => (await (await api(`/workflows/${id}`)).json()) as WorkflowView;

  const settled = async (id: string, status = 'completed'): Promise<WorkflowView> =>
    expectEventually(
      async () => {
        const view = await workflowOf(id);
        expect(view.status).toBe(status);
        return view;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );

  const run = async (definition: WorkflowDefinitionInput | string, input: unknown): Promise<string> => {
    const body = typeof definition === 'string' ? { definitionName: definition, input } : { definition, input };
    const response = await api('/workflows', { method: 'POST', body: JSON.stringify(body) });
    const text = await response.text();
    expect([response.status, text]).toEqual([202, expect.any(String)]);
    return (JSON.parse(text) as WorkflowView).id;
  };

  const step = (view: WorkflowView, id: string): StepView => {
    const found = view.steps.find((candidate) => candidate.id === id);
    if (!found) throw new Error(`no step ${id} in ${view.steps.map((s) => s.id).join(', ')}`);
    return found;
  };

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'router-definitions-'));
    await writeFile(
      join(folder, 'from-file.json'),
      JSON.stringify({ name: 'from-file', pattern: 'sequential', steps: [{ id: 'only', capability: 'echo' }] }),
    );
    await writeFile(
      join(folder, 'deploy-review.yaml'),
      [
        'name: deploy-review',
        'pattern: event-driven',
        'triggers:',
        '  - eventType: com.example.deployment.finished',
        'steps:',
        '  - id: review',
        '    capability: echo',
        '    input: { service: $.input.service }',
      ].join('\n'),
    );
    agents = new TestAgents({ brokers: infra.kafka.brokers, topicPrefix });
    await agents.start();
    const port = await freePort();
    router = await spawnApp({
      name: 'router-patterns',
      entry: 'apps/router/src/main.ts',
      port,
      env: {
        KAFKA_BROKERS: infra.kafka.brokers.join(','),
        BATON_TOPIC_PREFIX: topicPrefix,
        ROUTER_PORT: String(port),
        DATABASE_URL: infra.postgres.url,
        ROUTER_DB_SCHEMA: routerSchema,
        BATON_API_KEYS: API_KEY,
        ROUTER_DEFINITIONS_DIR: folder,
        ROUTER_RETRY_BACKOFF_MS: '100',
        ROUTER_TIMER_INTERVAL_MS: '50',
      },
    });
    await agentsAnnounced(router.baseUrl, API_KEY, ALL_CAPABILITIES);
  });

  afterAll(async () => {
    await Promise.allSettled([router?.stop(), agents?.stop()]);
    await dropTestSchema(infra.postgres.url, routerSchema);
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  describe('definitions', () => {
    it('loads definitions from the configured folder and registers JSON or YAML over HTTP, versioned', async () => {
      const fromFile = await api('/definitions/from-file');
      expect(fromFile.status).toBe(200);
      expect(await fromFile.json()).toMatchObject({ name: 'from-file', version: 1, source: 'file' });

      const yaml = ['name: posted', 'pattern: sequential', 'steps:', '  - id: a', '    capability: echo'].join('\n');
      const posted = await api('/definitions', { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
      expect(posted.status).toBe(201);
      expect(await posted.json()).toMatchObject({ name: 'posted', version: 1, source: 'api' });
      const again = await api('/definitions', { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
      expect(await again.json()).toMatchObject({ version: 1 });
      const changed = await api('/definitions', {
        method: 'POST',
        body: JSON.stringify({ name: 'posted', pattern: 'sequential', steps: [{ id: 'b', capability: 'echo' }] }),
      });
      expect(await changed.json()).toMatchObject({ version: 2 });

      const triggered = (await (await api('/definitions?trigger=com.example.deployment.finished')).json()) as Array<{ name: string }>;
      expect(triggered.map((d) => d.name)).toEqual(['deploy-review']);
    });

    it('rejects an invalid definition naming the path, and registers nothing', async () => {
      const response = await api('/definitions', {
        method: 'POST',
        body: JSON.stringify({
          name: 'broken-def',
          pattern: 'parallel',
          steps: [
            { id: 'a', capability: 'echo' },
            { id: 'b', capability: 'echo' },
            { id: 'c', branches: [{ id: 'x' }], merge: { strategy: 'all' } },
          ],
        }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'validation_failed', issues: ['steps[2].branches[0].capability: required'] });
      expect((await api('/definitions/broken-def')).status).toBe(404);

      const notYaml = await api('/definitions', { method: 'POST', body: 'steps: [', headers: { 'content-type': 'application/yaml' } });
      expect(notYaml.status).toBe(400);
      const unknownName = await api('/workflows', { method: 'POST', body: JSON.stringify({ definitionName: 'nope', input: {} }) });
      expect(unknownName.status).toBe(404);
      const both = await api('/workflows', { method: 'POST', body: JSON.stringify({ input: {} }) });
      expect(await both.json()).toMatchObject({ issues: ['definition: exactly one of definition or definitionName is required'] });
    });
  });

  it('sequential: runs a registered definition by name, mapping inputs from the workflow input and earlier steps', async () => {
    await api('/definitions', {
      method: 'POST',
      body: JSON.stringify({
        name: 'mapped',
        pattern: 'sequential',
        steps: [
          { id: 'first', capability: 'echo' },
          { id: 'second', capability: 'echo', params: { p: 1 } },
          { id: 'third', capability: 'echo', input: { doc: '$.input.doc', firstStep: '$.steps.first.stepId' } },
        ],
      }),
    });
    const view = await settled(await run('mapped', { doc: 'D' }));
    expect(step(view, 'second').output).toMatchObject({ input: { input: { stepId: 'first' }, params: { p: 1 } } });
    expect(step(view, 'third').output).toMatchObject({ input: { input: { doc: 'D', firstStep: 'first' } } });
    expect(view.output).toEqual(step(view, 'third').output);
  });

  it('parallel: a slow branch does not hold back the next step of another branch; all outputs merge', async () => {
    const id = await run(
      {
        name: 'fan-out',
        pattern: 'parallel',
        steps: [
          {
            id: 'research',
            branches: [
              { id: 'slow', capability: 'slow', params: { delayMs: 3000 } },
              {
                id: 'quick',
                steps: [
                  { id: 'one', capability: 'echo' },
                  { id: 'two', capability: 'echo' },
                ],
              },
            ],
            merge: { strategy: 'all' },
          },
          { id: 'after', capability: 'echo' },
        ],
      },
      'q',
    );
    const view = await settled(id);
    const two = step(view, 'research:quick:two');
    const slow = step(view, 'research:slow');
    expect(new Date(two.completedAt ?? '').getTime()).toBeLessThan(new Date(slow.completedAt ?? '').getTime());
    expect(step(view, 'after').output).toMatchObject({
      input: { input: { slow: { capability: 'slow' }, quick: { stepId: 'research:quick:two' } } },
    });
  });

  it('parallel first: the first branch to finish wins; the others are cancelled at the agents', async () => {
    const id = await run(
      {
        name: 'race',
        pattern: 'parallel',
        steps: [
          {
            id: 'race',
            branches: [
              { id: 'tortoise', capability: 'slow', params: { delayMs: 20000 } },
              { id: 'hare', capability: 'echo' },
            ],
            merge: { strategy: 'first' },
          },
        ],
      },
      'go',
    );
    const view = await settled(id);
    expect(view.output).toMatchObject({ stepId: 'race:hare' });
    expect(step(view, 'race:tortoise').status).toBe('cancelled');
    await expectEventually(() =>
      expect(agents.cancelled.filter((c) => c.workflowId === id)).toEqual([
        expect.objectContaining({ stepId: 'race:tortoise', reason: 'superseded' }),
      ]),
    );
  });

  it('parallel vote and agent merge', async () => {
    const opinions = (verdicts: string[]) => verdicts.map((verdict, i) => ({ id: `o${i}`, capability: 'opinion', params: { verdict } }));
    const voted = await settled(
      await run(
        {
          name: 'vote',
          pattern: 'parallel',
          steps: [{ id: 'v', branches: opinions(['ship', 'hold', 'ship']), merge: { strategy: 'vote', field: 'verdict' } }],
        },
        {},
      ),
    );
    expect(voted.output).toEqual({ value: 'ship', votes: 2, of: 3, majority: true, ballots: { o0: 'ship', o1: 'hold', o2: 'ship' } });

    const merged = await settled(
      await run(
        {
          name: 'reconciled',
          pattern: 'parallel',
          steps: [{ id: 'm', branches: opinions(['a', 'b']), merge: { strategy: 'agent', capability: 'reconcile' } }],
        },
        {},
      ),
    );
    expect(merged.output).toEqual({ reconciled: ['o0', 'o1'] });
  });

  it('parallel failure policies: fail-fast fails at once, best-effort merges the survivors', async () => {
    const definition = (onBranchFailure: 'fail-fast' | 'best-effort'): WorkflowDefinitionInput => ({
      name: `failing-${onBranchFailure}`,
      pattern: 'parallel',
      steps: [
        {
          id: 'p',
          branches: [
            { id: 'bad', capability: 'broken' },
            { id: 'good', capability: 'slow', params: { delayMs: 1000 } },
          ],
          merge: { strategy: 'all' },
          onBranchFailure,
        },
      ],
    });
    const fast = await settled(await run(definition('fail-fast'), {}), 'failed');
    expect(fast.error).toMatchObject({ code: 'broken' });
    expect(step(fast, 'p:good').status).toBe('cancelled');
    const best = await settled(await run(definition('best-effort'), {}));
    expect(Object.keys(best.output as object)).toEqual(['good']);
  });

  it('hierarchical: plan, dependent subtasks, one bounded rework round, synthesized answer; a cyclic plan is rejected', async () => {
    const supervised = (name: string): WorkflowDefinitionInput => ({
      name,
      pattern: 'hierarchical',
      steps: [{ id: 'solve', supervisor: { capability: 'supervise', maxSubtasks: 5, maxReworkRounds: 1 } }],
    });
    const plan = [
      { id: 'gather', capability: 'echo' },
      { id: 'analyse', capability: 'echo', dependsOn: ['gather'] },
    ];
    const view = await settled(await run(supervised('supervised'), { plan, rework: 1 }));
    expect(view.output).toEqual({ rounds: 2, results: ['fix1'] });
    expect(step(view, 'solve:r1:analyse').output).toMatchObject({ input: { dependencies: { gather: { stepId: 'solve:r1:gather' } } } });
    expect(view.steps.map((s) => s.id)).toEqual([
      'solve:plan',
      'solve:r1:gather',
      'solve:r1:analyse',
      'solve:review1',
      'solve:r2:fix1',
      'solve:review2',
    ]);

    const tooMuchRework = await settled(await run(supervised('endless'), { plan, rework: 5 }), 'failed');
    expect(tooMuchRework.error).toMatchObject({ code: 'rework_limit_exceeded' });

    const cyclic = [
      { id: 'a', capability: 'echo', dependsOn: ['b'] },
      { id: 'b', capability: 'echo', dependsOn: ['a'] },
    ];
    const rejected = await settled(await run(supervised('cyclic'), { plan: cyclic }), 'failed');
    expect(rejected.error).toEqual({ code: 'plan_rejected', message: 'plan is cyclic: a -> b -> a' });
    expect(rejected.steps.map((s) => s.id)).toEqual(['solve:plan']);
  });

  it('retries a retryable failure with backoff, and times out a hung attempt, asking the agent to stop', async () => {
    const flaky = await settled(
      await run({ name: 'flaky', pattern: 'sequential', steps: [{ id: 'f', capability: 'flaky', params: { succeedOnAttempt: 3 } }] }, {}),
    );
    expect(step(flaky, 'f')).toMatchObject({ status: 'completed', attempt: 3, output: { attempt: 3 } });

    const hungId = await run(
      {
        name: 'hung',
        pattern: 'sequential',
        steps: [{ id: 'h', capability: 'hang', timeoutMs: 300, retry: { maxAttempts: 2, backoffMs: 50 } }],
      },
      {},
    );
    const hung = await settled(hungId, 'failed');
    expect(hung.error).toMatchObject({ code: 'timed_out' });
    expect(step(hung, 'h').attempt).toBe(2);
    await expectEventually(() =>
      expect(agents.cancelled.filter((c) => c.workflowId === hungId).map((c) => [c.attempt, c.reason])).toEqual([
        [1, 'timed_out'],
        [2, 'timed_out'],
      ]),
    );
  });

  it('cancels a running workflow: open attempts get task.cancel_requested; a second cancel conflicts', async () => {
    const id = await run(
      { name: 'long', pattern: 'sequential', steps: [{ id: 'wait', capability: 'slow', params: { delayMs: 20000 } }] },
      {},
    );
    await expectEventually(() => expect(agents.attemptsOf(id, 'wait')).toHaveLength(1));
    const response = await api(`/workflows/${id}/cancel`, { method: 'POST', body: JSON.stringify({ reason: 'changed my mind' }) });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'changed my mind' } });
    await expectEventually(() =>
      expect(agents.cancelled.filter((c) => c.workflowId === id)).toEqual([
        expect.objectContaining({ stepId: 'wait', reason: 'workflow_cancelled' }),
      ]),
    );
    expect((await api(`/workflows/${id}/cancel`, { method: 'POST' })).status).toBe(409);
  });

  it('event-driven: a workflow.requested_by_name message starts the named definition; an unknown name is dead-lettered', async () => {
    const bus = new KafkaBus({ brokers: infra.kafka.brokers, clientId: 'e2e-trigger', topicPrefix });
    const raw = new RawKafka(infra.kafka.brokers);
    await bus.connect();
    try {
      const workflowId = randomUUID();
      const request = (definitionName: string, id: string) =>
        createEnvelope(
          workflowRequestedByName,
          {
            workflowId: id,
            definitionName,
            input: { service: 'payments' },
            requestedBy: 'event-triggers',
            trigger: { eventType: 'com.example.deployment.finished' },
          },
          { source: 'e2e', correlationId: id },
        );
      await bus.publish(workflowRequestedByName, request('deploy-review', workflowId));
      const view = await settled(workflowId);
      expect(view.output).toMatchObject({ input: { input: { service: 'payments' } } });

      const missing = randomUUID();
      await bus.publish(workflowRequestedByName, request('no-such-definition', missing));
      const dead = await raw.readUntil(
        dlqTopic(`${topicPrefix}${TOPICS.workflowRequests}`),
        (messages) => messages.some((m) => m.key === missing),
        30_000,
      );
      expect(dead.find((m) => m.key === missing)?.headers['baton-dlq-reason']).toMatch(/no-such-definition/);
    } finally {
      await Promise.allSettled([bus.disconnect(), raw.close()]);
    }
  });

  it('runs a 500-step workflow to the end (no step or history limit)', async () => {
    // Constant-size outputs: the echo agent nests its input, which would make step n's output O(n).
    const steps = Array.from({ length: 500 }, (_, i) => ({
      id: `s${i}`,
      capability: i === 499 ? 'echo' : 'opinion',
      params: { verdict: `v${i}` },
      ...(i === 499 ? { input: '$.steps.s0.verdict' } : {}),
    }));
    const id = await run({ name: 'long-chain', pattern: 'sequential', steps }, 'start');
    const view = await expectEventually(
      async () => {
        const current = await workflowOf(id);
        expect(current.status).toBe('completed');
        return current;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(view.steps).toHaveLength(500);
    expect(view.output).toMatchObject({ stepId: 's499', input: { input: 'v0' } });
  }, 150_000);

  it('never dispatched a step attempt twice', () => {
    const keys = agents.assigned.map((task) => `${task.workflowId}/${task.stepId}/${task.attempt}`);
    expect(keys.length).toBeGreaterThan(20);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
