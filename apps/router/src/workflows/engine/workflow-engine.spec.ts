import { workflowDefinitionSchema, type JsonValue, type WorkflowDefinitionInput } from '@baton/contracts';
import { checkPlan, decide, vote, type NodeState } from './workflow-engine';

const define = (definition: WorkflowDefinitionInput) => workflowDefinitionSchema.parse(definition);
const done = (output: JsonValue, order = 1): NodeState => ({ status: 'completed', output, order });
const failed = (code = 'boom'): NodeState => ({ status: 'failed', error: { code, message: code, retryable: false } });
const running: NodeState = { status: 'running' };
const ids = (decision: ReturnType<typeof decide>): string[] => decision.dispatch.map((spec) => spec.stepId);

describe('workflow engine', () => {
  describe('sequential', () => {
    const definition = define({
      name: 'review',
      pattern: 'sequential',
      steps: [
        { id: 'extract', capability: 'extraction' },
        { id: 'classify', capability: 'classification', params: { labels: ['a'] } },
        { id: 'report', capability: 'writing', input: { doc: '$.input.document', facts: '$.steps.extract.facts', last: '$.previous' } },
      ],
    });

    it('dispatches the first step with the workflow input, then each next one with the previous output', () => {
      expect(decide(definition, { document: 'd' }, new Map()).dispatch).toEqual([
        { stepId: 'extract', capability: 'extraction', input: { input: { document: 'd' } } },
      ]);
      const second = decide(definition, { document: 'd' }, new Map([['extract', done({ facts: [1] })]]));
      expect(second.dispatch).toEqual([
        { stepId: 'classify', capability: 'classification', input: { input: { facts: [1] }, params: { labels: ['a'] } } },
      ]);
    });

    it('maps inputs from the workflow input, earlier steps and the previous output', () => {
      const nodes = new Map([
        ['extract', done({ facts: [1] })],
        ['classify', done({ label: 'a' })],
      ]);
      expect(decide(definition, { document: 'd' }, nodes).dispatch[0]!.input).toEqual({
        input: { doc: 'd', facts: [1], last: { label: 'a' } },
      });
    });

    it('waits while a step runs, completes with the last output, fails with the failing step', () => {
      expect(decide(definition, {}, new Map([['extract', running]]))).toEqual({ dispatch: [], cancel: [] });
      const all = new Map([
        ['extract', done(1)],
        ['classify', done(2)],
        ['report', done(3)],
      ]);
      expect(decide(definition, {}, all).outcome).toEqual({ status: 'completed', output: 3 });
      expect(decide(definition, {}, new Map([['extract', failed()]])).outcome).toMatchObject({ status: 'failed', stepId: 'extract' });
    });
  });

  describe('parallel', () => {
    const parallel = (merge: object, onBranchFailure?: 'fail-fast' | 'best-effort') =>
      define({
        name: 'p',
        pattern: 'parallel',
        steps: [
          {
            id: 'research',
            branches: [
              { id: 'web', capability: 'search' },
              {
                id: 'docs',
                steps: [
                  { id: 'find', capability: 'search' },
                  { id: 'read', capability: 'reading' },
                ],
              },
              { id: 'ask', capability: 'asking' },
            ],
            merge: merge as never,
            ...(onBranchFailure ? { onBranchFailure } : {}),
          },
          { id: 'write', capability: 'writing' },
        ],
      });

    it('starts every branch at once and advances each branch on its own', () => {
      const definition = parallel({ strategy: 'all' });
      expect(ids(decide(definition, 'q', new Map()))).toEqual(['research:web', 'research:docs:find', 'research:ask']);
      const nodes = new Map([
        ['research:web', running],
        ['research:docs:find', done('found')],
        ['research:ask', running],
      ]);
      const decision = decide(definition, 'q', nodes);
      expect(decision.dispatch).toEqual([{ stepId: 'research:docs:read', capability: 'reading', input: { input: 'found' } }]);
    });

    it('merges all outputs by branch id and feeds them to the next step', () => {
      const nodes = new Map([
        ['research:web', done('w')],
        ['research:docs:find', done('f')],
        ['research:docs:read', done('r')],
        ['research:ask', done('a')],
      ]);
      expect(decide(parallel({ strategy: 'all' }), 'q', nodes).dispatch[0]).toEqual({
        stepId: 'write',
        capability: 'writing',
        input: { input: { web: 'w', docs: 'r', ask: 'a' } },
      });
    });

    it('first: the earliest completed branch wins and the others are cancelled', () => {
      const nodes = new Map([
        ['research:web', running],
        ['research:docs:find', running],
        ['research:ask', done('a', 4)],
      ]);
      const decision = decide(parallel({ strategy: 'first' }), 'q', nodes);
      expect(decision.cancel.sort()).toEqual(['research:docs:find', 'research:web']);
      expect(decision.dispatch[0]).toMatchObject({ stepId: 'write', input: { input: 'a' } });
    });

    it('fail-fast fails the workflow and cancels running branches; best-effort merges the rest', () => {
      const nodes = new Map([
        ['research:web', failed('web_down')],
        ['research:docs:find', running],
        ['research:ask', done('a')],
      ]);
      const fast = decide(parallel({ strategy: 'all' }), 'q', nodes);
      expect(fast.outcome).toMatchObject({ status: 'failed', stepId: 'research:web', error: { code: 'web_down' } });
      expect(fast.cancel).toEqual(['research:docs:find']);

      const best = parallel({ strategy: 'all' }, 'best-effort');
      expect(decide(best, 'q', nodes)).toEqual({ dispatch: [], cancel: [] });
      nodes.set('research:docs:find', done('f'));
      nodes.set('research:docs:read', done('r'));
      expect(decide(best, 'q', nodes).dispatch[0]!.input).toEqual({ input: { docs: 'r', ask: 'a' } });
    });

    it('vote takes the majority of a field; agent merge dispatches the merge agent with every output', () => {
      expect(vote({ a: { v: { x: 1 } }, b: { v: { x: 2 } }, c: { v: { x: 2 } } }, 'v.x', ['a', 'b', 'c'])).toEqual({
        value: 2,
        votes: 2,
        of: 3,
        majority: true,
        ballots: { a: 1, b: 2, c: 2 },
      });
      expect(vote({ a: { v: 'x' }, b: { v: 'y' } }, 'v', ['a', 'b'])).toMatchObject({ value: 'x', majority: false });

      const nodes = new Map([
        ['research:web', done('w')],
        ['research:docs:find', done('f')],
        ['research:docs:read', done('r')],
        ['research:ask', done('a')],
      ]);
      const merged = decide(parallel({ strategy: 'agent', capability: 'reconcile' }), 'q', nodes);
      expect(merged.dispatch).toEqual([
        { stepId: 'research:merge', capability: 'reconcile', input: { input: { branches: { web: 'w', docs: 'r', ask: 'a' } } } },
      ]);
      nodes.set('research:merge', done('consensus'));
      expect(decide(parallel({ strategy: 'agent', capability: 'reconcile' }), 'q', nodes).dispatch[0]!.input).toEqual({
        input: 'consensus',
      });
    });

    it('gives the merge agent every scope of the branches whose outputs it reads, so policy checks it for all of them', () => {
      const scoped = define({
        name: 'p',
        pattern: 'parallel',
        steps: [
          {
            id: 'research',
            branches: [
              { id: 'crm', capability: 'search', scopes: ['customer-data'] },
              {
                id: 'billing',
                steps: [
                  { id: 'find', capability: 'search', scopes: ['finance'] },
                  { id: 'read', capability: 'reading', scopes: ['customer-data'] },
                ],
              },
              { id: 'web', capability: 'search' },
            ],
            merge: { strategy: 'agent', capability: 'reconcile' },
          },
        ],
      });
      const nodes = new Map([
        ['research:crm', done('c')],
        ['research:billing:find', done('f')],
        ['research:billing:read', done('r')],
        ['research:web', done('w')],
      ]);
      expect(decide(scoped, 'q', nodes).dispatch).toEqual([
        expect.objectContaining({ stepId: 'research:merge', capability: 'reconcile', scopes: ['customer-data', 'finance'] }),
      ]);
    });

    it('vote reads only own fields and counts only branches that completed, whatever their ids', () => {
      expect(vote({ a: { v: 'x' }, b: {} }, 'constructor', ['a', 'b'])).toEqual({
        value: null,
        votes: 2,
        of: 2,
        majority: true,
        ballots: { a: null, b: null },
      });
      // `constructor` failed (best-effort): it has no output, so no ballot.
      expect(vote({ a: { v: 'x' } }, 'v', ['constructor', 'a'])).toEqual({
        value: 'x',
        votes: 1,
        of: 1,
        majority: true,
        ballots: { a: 'x' },
      });
    });
  });

  describe('hierarchical', () => {
    const definition = define({
      name: 'h',
      pattern: 'hierarchical',
      steps: [{ id: 'solve', supervisor: { capability: 'supervise', maxSubtasks: 3, maxReworkRounds: 1 } }],
    });
    const plan: JsonValue = {
      subtasks: [
        { id: 'a', capability: 'search' },
        { id: 'b', capability: 'analysis', dependsOn: ['a'], input: 'custom' },
      ],
    };

    it('asks for a plan, dispatches subtasks as their dependencies complete, then asks for a review', () => {
      expect(decide(definition, 'task', new Map()).dispatch).toEqual([
        { stepId: 'solve:plan', capability: 'supervise', input: { phase: 'plan', task: 'task', maxSubtasks: 3 } },
      ]);
      const nodes = new Map<string, NodeState>([['solve:plan', done(plan)]]);
      expect(ids(decide(definition, 'task', nodes))).toEqual(['solve:r1:a']);
      nodes.set('solve:r1:a', done('A'));
      expect(decide(definition, 'task', nodes).dispatch).toEqual([
        { stepId: 'solve:r1:b', capability: 'analysis', input: { input: 'custom', dependencies: { a: 'A' } } },
      ]);
      nodes.set('solve:r1:b', done('B'));
      expect(decide(definition, 'task', nodes).dispatch[0]).toMatchObject({
        stepId: 'solve:review1',
        input: { phase: 'review', round: 1, final: false, results: { a: 'A', b: 'B' } },
      });
      nodes.set('solve:review1', done({ decision: 'rework', subtasks: [{ id: 'c', capability: 'search' }] }));
      expect(ids(decide(definition, 'task', nodes))).toEqual(['solve:r2:c']);
      nodes.set('solve:r2:c', done('C'));
      expect(decide(definition, 'task', nodes).dispatch[0]).toMatchObject({ stepId: 'solve:review2', input: { final: true } });
      nodes.set('solve:review2', done({ decision: 'accept', answer: '42' }));
      expect(decide(definition, 'task', nodes).outcome).toEqual({ status: 'completed', output: '42' });
    });

    it('bounds rework rounds', () => {
      const nodes = new Map<string, NodeState>([
        ['solve:plan', done({ subtasks: [{ id: 'a', capability: 's' }] })],
        ['solve:r1:a', done(1)],
        ['solve:review1', done({ decision: 'rework', subtasks: [{ id: 'a', capability: 's' }] })],
        ['solve:r2:a', done(2)],
        ['solve:review2', done({ decision: 'rework', subtasks: [{ id: 'a', capability: 's' }] })],
      ]);
      expect(decide(definition, 'task', nodes).outcome).toMatchObject({
        status: 'failed',
        stepId: 'solve:review2',
        error: { code: 'rework_limit_exceeded' },
      });
    });

    it('rejects cyclic, oversized, malformed and dangling plans without dispatching anything', () => {
      const outcome = (output: JsonValue) => decide(definition, 't', new Map([['solve:plan', done(output)]]));
      const cyclic = outcome({
        subtasks: [
          { id: 'a', capability: 's', dependsOn: ['b'] },
          { id: 'b', capability: 's', dependsOn: ['a'] },
        ],
      });
      expect(cyclic.dispatch).toEqual([]);
      expect(cyclic.outcome).toMatchObject({ status: 'failed', error: { code: 'plan_rejected', message: 'plan is cyclic: a -> b -> a' } });
      const big = outcome({ subtasks: ['a', 'b', 'c', 'd'].map((id) => ({ id, capability: 's' })) });
      expect(big.outcome).toMatchObject({ error: { message: 'plan has 4 subtasks; at most 3 allowed' } });
      expect(outcome({ subtasks: [{ id: 'a' }] }).outcome).toMatchObject({
        error: { code: 'plan_rejected', message: 'invalid plan: subtasks[0].capability: required' },
      });
      expect(checkPlan([{ id: 'a', capability: 's', dependsOn: ['zz'] }], 5)).toBe('subtasks[0].dependsOn: unknown subtask "zz"');
    });
  });
});

describe('workflow definition validation', () => {
  const issues = (definition: unknown): string[] => {
    const parsed = workflowDefinitionSchema.safeParse(definition);
    return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('names the offending path of a branch', () => {
    expect(
      issues({
        name: 'x',
        pattern: 'parallel',
        steps: [
          { id: 'a', capability: 'c' },
          { id: 'b', capability: 'c' },
          { id: 'p', branches: [{ id: 'b1' }], merge: { strategy: 'all' } },
        ],
      }),
    ).toEqual(['steps.2.branches.0.capability: required']);
  });

  it('rejects vote without a field, agent merge without a capability, references to later steps and missing triggers', () => {
    expect(
      issues({
        name: 'x',
        pattern: 'parallel',
        steps: [{ id: 'p', branches: [{ id: 'a', capability: 'c' }], merge: { strategy: 'vote' } }],
      }),
    ).toEqual(['steps.0.merge.field: required']);
    expect(
      issues({
        name: 'x',
        pattern: 'parallel',
        steps: [{ id: 'p', branches: [{ id: 'a', capability: 'c' }], merge: { strategy: 'agent' } }],
      }),
    ).toEqual(['steps.0.merge.capability: required']);
    expect(
      issues({
        name: 'x',
        pattern: 'sequential',
        steps: [
          { id: 'a', capability: 'c', input: { x: '$.steps.b.y' } },
          { id: 'b', capability: 'c' },
        ],
      }),
    ).toEqual(['steps.0.input.x: references step "b", which does not run before step 0']);
    expect(issues({ name: 'x', pattern: 'event-driven', steps: [{ id: 'a', capability: 'c' }] })).toEqual(['triggers: required']);
    expect(issues({ name: 'x', pattern: 'sequential', steps: [{ id: 'a:b', capability: 'c' }] })).toEqual([
      'steps.0.id: must not contain ":"',
    ]);
  });

  it('still accepts the first cut sequential form', () => {
    expect(
      issues({ name: 'review', pattern: 'sequential', steps: [{ id: 'extract', capability: 'extraction', timeoutMs: 1000 }] }),
    ).toEqual([]);
  });
});
