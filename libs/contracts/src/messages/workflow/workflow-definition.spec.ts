import { describeIssues } from '../../envelope/validation-error';
import { workflowDefinitionSchema } from './workflow-definition';

const issues = (definition: unknown): string[] => {
  const parsed = workflowDefinitionSchema.safeParse(definition);
  return parsed.success ? [] : describeIssues(parsed.error);
};

const taskFields = { params: { p: 1 }, input: '$.input', timeoutMs: 1000, retry: { maxAttempts: 2 }, scopes: ['pii'] };

describe('workflow definition: fields the engine would ignore', () => {
  it('refuses task fields on a parallel step, naming where they belong, and keeps them on single-task branches', () => {
    expect(
      issues({
        name: 'x',
        pattern: 'parallel',
        steps: [{ id: 'p', ...taskFields, branches: [{ id: 'a', capability: 'c', ...taskFields }], merge: { strategy: 'all' } }],
      }),
    ).toEqual([
      'steps[0].params: not allowed on a parallel step; set params on its branches',
      'steps[0].input: not allowed on a parallel step; set input on its branches',
      'steps[0].timeoutMs: not allowed on a parallel step; set timeoutMs on its branches (merge.timeoutMs bounds an agent merge)',
      'steps[0].retry: not allowed on a parallel step; set retry on its branches',
      'steps[0].scopes: not allowed on a parallel step; set scopes on its branches',
    ]);
  });

  it('refuses task fields on a supervised step and points timeoutMs, retry and scopes to its supervisor', () => {
    expect(
      issues({
        name: 'x',
        pattern: 'hierarchical',
        steps: [
          {
            id: 's',
            ...taskFields,
            supervisor: { capability: 'supervise', timeoutMs: 1000, retry: { maxAttempts: 2 }, scopes: ['pii'] },
          },
        ],
      }),
    ).toEqual([
      'steps[0].params: not allowed on a supervised step; a supervisor takes no params',
      "steps[0].input: not allowed on a supervised step; its supervisor plans from the previous step's output",
      'steps[0].timeoutMs: not allowed on a supervised step; set supervisor.timeoutMs',
      'steps[0].retry: not allowed on a supervised step; set supervisor.retry',
      'steps[0].scopes: not allowed on a supervised step; set supervisor.scopes',
    ]);
  });

  it('refuses task fields on a branch of steps and keeps them on its steps', () => {
    expect(
      issues({
        name: 'x',
        pattern: 'parallel',
        steps: [
          { id: 'a', capability: 'c' },
          {
            id: 'p',
            branches: [
              { id: 'one', capability: 'c' },
              { id: 'many', ...taskFields, steps: [{ id: 'i', capability: 'c', ...taskFields }] },
            ],
            merge: { strategy: 'all' },
          },
        ],
      }),
    ).toEqual([
      'steps[1].branches[1].params: not allowed on a branch with steps; set params on its steps',
      'steps[1].branches[1].input: not allowed on a branch with steps; set input on its steps',
      'steps[1].branches[1].timeoutMs: not allowed on a branch with steps; set timeoutMs on its steps',
      'steps[1].branches[1].retry: not allowed on a branch with steps; set retry on its steps',
      'steps[1].branches[1].scopes: not allowed on a branch with steps; set scopes on its steps',
    ]);
  });
});

describe('workflow definition: the merge node id', () => {
  const parallel = (strategy: object) => ({
    name: 'x',
    pattern: 'parallel',
    steps: [
      {
        id: 'p',
        branches: [
          { id: 'a', capability: 'c' },
          { id: 'merge', capability: 'c' },
        ],
        merge: strategy,
      },
    ],
  });

  it('refuses a branch id "merge" under an agent merge only, where it would be the merge node', () => {
    expect(issues(parallel({ strategy: 'agent', capability: 'reconcile' }))).toEqual([
      'steps[0].branches[1].id: "merge" is reserved for the merge agent of an agent merge; rename the branch',
    ]);
    expect(issues(parallel({ strategy: 'all' }))).toEqual([]);
  });
});
