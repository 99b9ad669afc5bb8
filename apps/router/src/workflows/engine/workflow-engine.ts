import {
  MERGE_NODE_NAME,
  STEP_PATH_SEPARATOR as SEP,
  describeIssues,
  supervisorPlanSchema,
  supervisorReviewSchema,
  type BranchDefinition,
  type ErrorInfo,
  type JsonValue,
  type MergeDefinition,
  type RetryPolicy,
  type StepDefinition,
  type Subtask,
  type SupervisorDefinition,
  type TaskStepDefinition,
  type WorkflowDefinition,
} from '@baton/contracts';
import { readPath, resolveMapping, splitPath, type MappingContext } from './input-mapping';

/**
 * The orchestration rules of every pattern as one pure function: given the
 * definition, the workflow input and what each runtime step (a task node) has
 * done so far, it says which nodes to dispatch now, which running ones are no
 * longer needed, and whether the workflow is finished. The service calls it
 * after every transition, inside the transaction, so a restarted router
 * resumes from the rows alone and each branch advances on its own.
 *
 * Node ids: `step` (task), `step:branch` or `step:branch:inner` (parallel),
 * `step:merge`, `step:plan`, `step:r<round>:<subtask>`, `step:review<round>`.
 */
export type NodeStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface NodeState {
  status: NodeStatus;
  output?: JsonValue;
  error?: ErrorInfo;
  /** Completion order within the workflow (the `first` merge picks the lowest). */
  order?: number;
}

export interface NodeSpec {
  stepId: string;
  capability: string;
  input: JsonValue;
  timeoutMs?: number;
  retry?: RetryPolicy;
  scopes?: string[];
}

export type Outcome = { status: 'completed'; output: JsonValue } | { status: 'failed'; stepId: string; error: ErrorInfo };

export interface Decision {
  dispatch: NodeSpec[];
  cancel: string[];
  outcome?: Outcome;
}

type BlockResult = { state: 'running' } | { state: 'completed'; output: JsonValue } | { state: 'failed'; stepId: string; error: ErrorInfo };

interface Work {
  dispatch: NodeSpec[];
  cancel: string[];
}

export function decide(definition: WorkflowDefinition, input: JsonValue, nodes: ReadonlyMap<string, NodeState>): Decision {
  const work: Work = { dispatch: [], cancel: [] };
  const steps: Record<string, JsonValue> = {};
  let previous: JsonValue = input;
  for (const step of definition.steps) {
    const context: MappingContext = { input, previous, steps };
    const result = evaluateStep(step, context, nodes, work);
    if (result.state === 'running') return work;
    if (result.state === 'failed') {
      cancelRunning(nodes, work, () => true);
      return { ...work, dispatch: [], outcome: { status: 'failed', stepId: result.stepId, error: result.error } };
    }
    steps[step.id] = result.output;
    previous = result.output;
  }
  return { ...work, outcome: { status: 'completed', output: previous } };
}

function evaluateStep(step: StepDefinition, context: MappingContext, nodes: ReadonlyMap<string, NodeState>, work: Work): BlockResult {
  if (step.branches && step.merge) return evaluateParallel(step, step.branches, step.merge, context, nodes, work);
  if (step.supervisor) return evaluateSupervised(step, step.supervisor, context, nodes, work);
  return evaluateTask(step.id, step as TaskStepDefinition, context, nodes, work);
}

function evaluateTask(
  nodeId: string,
  task: TaskStepDefinition | (BranchDefinition & { capability: string }),
  context: MappingContext,
  nodes: ReadonlyMap<string, NodeState>,
  work: Work,
): BlockResult {
  const node = nodes.get(nodeId);
  if (!node) {
    work.dispatch.push(spec(nodeId, task.capability, taskInput(task, context), task));
    return { state: 'running' };
  }
  return fromNode(nodeId, node);
}

function fromNode(nodeId: string, node: NodeState): BlockResult {
  switch (node.status) {
    case 'running':
      return { state: 'running' };
    case 'completed':
      return { state: 'completed', output: node.output ?? null };
    case 'failed':
      return { state: 'failed', stepId: nodeId, error: node.error ?? { code: 'step_failed', message: 'step failed', retryable: false } };
    case 'cancelled':
      return { state: 'failed', stepId: nodeId, error: { code: 'cancelled', message: `step ${nodeId} was cancelled`, retryable: false } };
  }
}

/** A task's input: the mapped (or previous) value, with the step's static params alongside. */
export function taskInput(task: { input?: JsonValue; params?: Record<string, JsonValue> }, context: MappingContext): JsonValue {
  const value = task.input === undefined ? context.previous : resolveMapping(task.input, context);
  return task.params === undefined ? { input: value } : { input: value, params: task.params };
}

function spec(
  stepId: string,
  capability: string,
  input: JsonValue,
  options: { timeoutMs?: number; retry?: RetryPolicy; scopes?: string[] },
): NodeSpec {
  return {
    stepId,
    capability,
    input,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
  };
}

// ---- parallel ---------------------------------------------------------------

interface BranchOutcome {
  id: string;
  result: BlockResult;
  /** Stopped because the block no longer needed it (`first` merge); not a failure. */
  cancelled?: boolean;
  order: number;
  pending: NodeSpec[];
}

function evaluateParallel(
  step: StepDefinition,
  branches: readonly BranchDefinition[],
  merge: MergeDefinition,
  context: MappingContext,
  nodes: ReadonlyMap<string, NodeState>,
  work: Work,
): BlockResult {
  const policy = step.onBranchFailure ?? 'fail-fast';
  const outcomes = branches.map((branch) => evaluateBranch(step.id, branch, context, nodes));
  const prefix = `${step.id}${SEP}`;
  const own = (id: string): boolean => id.startsWith(prefix);

  const completed = outcomes.filter((o) => o.result.state === 'completed');
  const failed = outcomes.filter((o) => o.result.state === 'failed' && !o.cancelled);
  const running = outcomes.filter((o) => o.result.state === 'running');

  const finish = (result: BlockResult): BlockResult => {
    cancelRunning(nodes, work, own);
    return result;
  };

  const earliest = (list: BranchOutcome[]): BranchOutcome | undefined => [...list].sort((a, b) => a.order - b.order)[0];
  const firstFailure = earliest(failed);
  if (policy === 'fail-fast' && firstFailure) return finish(firstFailure.result);
  const winner = earliest(completed);
  if (merge.strategy === 'first' && winner) return finish(winner.result);
  if (running.length > 0) {
    for (const outcome of running) work.dispatch.push(...outcome.pending);
    return { state: 'running' };
  }
  if (completed.length === 0) {
    return (
      failed[0]?.result ?? {
        state: 'failed',
        stepId: step.id,
        error: { code: 'no_branch_completed', message: `no branch of ${step.id} completed`, retryable: false },
      }
    );
  }

  const outputs: Record<string, JsonValue> = {};
  for (const outcome of outcomes) {
    if (outcome.result.state === 'completed') outputs[outcome.id] = outcome.result.output;
  }
  switch (merge.strategy) {
    case 'all':
    case 'first':
      return { state: 'completed', output: outputs };
    case 'vote':
      return {
        state: 'completed',
        output: vote(
          outputs,
          merge.field ?? '',
          branches.map((b) => b.id),
        ),
      };
    case 'agent': {
      const mergeId = `${step.id}${SEP}${MERGE_NODE_NAME}`;
      const node = nodes.get(mergeId);
      if (!node) {
        const failedIds = failed.map((o) => o.id);
        const scopes = scopesOf(branches);
        work.dispatch.push(
          spec(
            mergeId,
            merge.capability ?? 'merge',
            { input: { branches: outputs, ...(failedIds.length ? { failed: failedIds } : {}) } },
            { ...merge, ...(scopes.length > 0 ? { scopes } : {}) },
          ),
        );
        return { state: 'running' };
      }
      return fromNode(mergeId, node);
    }
  }
}

/** The merge agent reads every branch's output, so policy must permit it every scope any branch task was given. */
function scopesOf(branches: readonly BranchDefinition[]): string[] {
  const scopes = new Set<string>();
  for (const branch of branches) for (const task of branch.steps ?? [branch]) for (const scope of task.scopes ?? []) scopes.add(scope);
  return [...scopes].sort();
}

function evaluateBranch(
  stepId: string,
  branch: BranchDefinition,
  context: MappingContext,
  nodes: ReadonlyMap<string, NodeState>,
): BranchOutcome {
  const sequence: Array<{ nodeId: string; task: TaskStepDefinition }> = branch.steps
    ? branch.steps.map((inner) => ({ nodeId: `${stepId}${SEP}${branch.id}${SEP}${inner.id}`, task: inner }))
    : [{ nodeId: `${stepId}${SEP}${branch.id}`, task: { ...branch, capability: branch.capability ?? '' } as TaskStepDefinition }];
  let previous = context.previous;
  let order = 0;
  for (const { nodeId, task } of sequence) {
    const node = nodes.get(nodeId);
    if (!node) {
      const pending = [spec(nodeId, task.capability, taskInput(task, { ...context, previous }), task)];
      return { id: branch.id, result: { state: 'running' }, order: Number.MAX_SAFE_INTEGER, pending };
    }
    const result = fromNode(nodeId, node);
    order = node.order ?? Number.MAX_SAFE_INTEGER;
    if (node.status === 'cancelled') return { id: branch.id, result, order, pending: [], cancelled: true };
    if (result.state !== 'completed') return { id: branch.id, result, order, pending: [] };
    previous = result.output;
  }
  return { id: branch.id, result: { state: 'completed', output: previous }, order, pending: [] };
}

/** Plurality over `field`; a tie goes to the value first reached in branch order. */
export function vote(outputs: Readonly<Record<string, JsonValue>>, field: string, branchOrder: readonly string[]): JsonValue {
  const path = splitPath(field);
  const tally = new Map<string, { value: JsonValue; votes: number; first: number }>();
  const ballots: Record<string, JsonValue> = {};
  branchOrder.forEach((branchId, index) => {
    // A branch that did not complete has no ballot, even if its id names an inherited member (`constructor`).
    if (!Object.hasOwn(outputs, branchId)) return;
    const value = readPath(outputs[branchId] as JsonValue, path);
    ballots[branchId] = value;
    const key = JSON.stringify(value);
    const entry = tally.get(key) ?? { value, votes: 0, first: index };
    entry.votes += 1;
    tally.set(key, entry);
  });
  const winner = [...tally.values()].sort((a, b) => b.votes - a.votes || a.first - b.first)[0];
  const total = Object.keys(ballots).length;
  if (!winner) return { value: null, votes: 0, of: 0, majority: false, ballots };
  return { value: winner.value, votes: winner.votes, of: total, majority: winner.votes * 2 > total, ballots };
}

// ---- hierarchical -----------------------------------------------------------

function evaluateSupervised(
  step: StepDefinition,
  supervisor: SupervisorDefinition,
  context: MappingContext,
  nodes: ReadonlyMap<string, NodeState>,
  work: Work,
): BlockResult {
  const task = context.previous;
  const supervisorSpec = (nodeId: string, input: JsonValue): NodeSpec => spec(nodeId, supervisor.capability, input, supervisor);
  const prefix = `${step.id}${SEP}`;
  const fail = (stepId: string, code: string, message: string): BlockResult => {
    cancelRunning(nodes, work, (id) => id.startsWith(prefix));
    return { state: 'failed', stepId, error: { code, message, retryable: false } };
  };

  const planId = `${step.id}${SEP}plan`;
  const planNode = nodes.get(planId);
  if (!planNode) {
    work.dispatch.push(supervisorSpec(planId, { phase: 'plan', task, maxSubtasks: supervisor.maxSubtasks }));
    return { state: 'running' };
  }
  const planned = fromNode(planId, planNode);
  if (planned.state !== 'completed') return planned;
  const plan = supervisorPlanSchema.safeParse(planned.output);
  if (!plan.success) return fail(planId, 'plan_rejected', `invalid plan: ${describeIssues(plan.error).join('; ')}`);
  let subtasks = plan.data.subtasks;

  for (let round = 1; ; round += 1) {
    const problem = checkPlan(subtasks, supervisor.maxSubtasks);
    if (problem) return fail(round === 1 ? planId : `${step.id}${SEP}review${round - 1}`, 'plan_rejected', problem);
    const results: Record<string, JsonValue> = {};
    let waiting = false;
    for (const subtask of subtasks) {
      const nodeId = `${step.id}${SEP}r${round}${SEP}${subtask.id}`;
      const node = nodes.get(nodeId);
      if (node) {
        const result = fromNode(nodeId, node);
        if (result.state === 'failed') return fail(result.stepId, result.error.code, result.error.message);
        if (result.state === 'completed') results[subtask.id] = result.output;
        else waiting = true;
        continue;
      }
      waiting = true;
      const deps = subtask.dependsOn ?? [];
      if (deps.every((dep) => nodes.get(`${step.id}${SEP}r${round}${SEP}${dep}`)?.status === 'completed')) {
        const dependencies = Object.fromEntries(
          deps.map((dep) => [dep, nodes.get(`${step.id}${SEP}r${round}${SEP}${dep}`)?.output ?? null]),
        );
        work.dispatch.push(
          spec(
            nodeId,
            subtask.capability,
            { input: subtask.input ?? task, ...(deps.length ? { dependencies } : {}) },
            {
              ...(supervisor.scopes ? { scopes: supervisor.scopes } : {}),
            },
          ),
        );
      }
    }
    if (waiting) return { state: 'running' };

    const reviewId = `${step.id}${SEP}review${round}`;
    const final = round > supervisor.maxReworkRounds;
    const reviewNode = nodes.get(reviewId);
    if (!reviewNode) {
      work.dispatch.push(supervisorSpec(reviewId, { phase: 'review', task, round, final, results }));
      return { state: 'running' };
    }
    const reviewed = fromNode(reviewId, reviewNode);
    if (reviewed.state !== 'completed') return reviewed;
    const review = supervisorReviewSchema.safeParse(reviewed.output);
    if (!review.success) return fail(reviewId, 'review_rejected', `invalid review: ${describeIssues(review.error).join('; ')}`);
    if (review.data.decision === 'accept') return { state: 'completed', output: review.data.answer };
    if (final) {
      return fail(reviewId, 'rework_limit_exceeded', `supervisor asked for rework after ${supervisor.maxReworkRounds} rework round(s)`);
    }
    subtasks = review.data.subtasks;
  }
}

/** Rejects plans that are too large, reuse ids, depend on unknown subtasks or are cyclic. */
export function checkPlan(subtasks: readonly Subtask[], maxSubtasks: number): string | undefined {
  if (subtasks.length > maxSubtasks) return `plan has ${subtasks.length} subtasks; at most ${maxSubtasks} allowed`;
  const ids = new Set<string>();
  for (const [index, subtask] of subtasks.entries()) {
    if (ids.has(subtask.id)) return `subtasks[${index}].id: duplicate subtask id "${subtask.id}"`;
    ids.add(subtask.id);
  }
  for (const [index, subtask] of subtasks.entries()) {
    for (const dep of subtask.dependsOn ?? []) {
      if (!ids.has(dep)) return `subtasks[${index}].dependsOn: unknown subtask "${dep}"`;
    }
  }
  const byId = new Map(subtasks.map((subtask) => [subtask.id, subtask]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): string | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return `plan is cyclic: ${[...trail, id].join(' -> ')}`;
    state.set(id, 'visiting');
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      const cycle = visit(dep, [...trail, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const subtask of subtasks) {
    const cycle = visit(subtask.id, []);
    if (cycle) return cycle;
  }
  return undefined;
}

function cancelRunning(nodes: ReadonlyMap<string, NodeState>, work: Work, include: (id: string) => boolean): void {
  for (const [id, node] of nodes) {
    if (node.status === 'running' && include(id) && !work.cancel.includes(id)) work.cancel.push(id);
  }
}
