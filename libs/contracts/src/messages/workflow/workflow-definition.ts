import { z } from 'zod';
import { identifierSchema, jsonValueSchema, storableRecord, storableStringSchema } from '../common';

/**
 * A workflow definition, carried inline in requests or registered by name.
 *
 * `steps` run in order (the sequential backbone); a step is one of:
 * - a task: `capability` (+ `params`, an `input` mapping, `timeoutMs`, `retry`, `scopes`);
 * - a parallel block: `branches` (each a task, or `steps` of tasks advancing on
 *   their own), merged by `merge.strategy` (`all` | `first` | `vote` over `merge.field`
 *   | `agent` with `merge.capability`), failing by `onBranchFailure`;
 * - a supervised block: `supervisor` (a capability that returns a plan of subtasks,
 *   reviews their results, may ask for bounded rework and synthesizes the answer).
 * The task fields after `capability` belong to tasks (and single-task branches) only:
 * the engine never reads them on a parallel block, a supervised block or a branch
 * of `steps`, so they are refused there rather than silently dropped (a dropped
 * `scopes` would dispatch the work without its policy check).
 * `pattern` names the overall shape and must agree with the steps; `triggers`
 * lists the system-event types that start the workflow (event-driven).
 *
 * Step kinds are told apart by their fields rather than a zod union so that an
 * error names the exact field (`steps[2].branches[0].capability: required`).
 */
export const WORKFLOW_PATTERNS = ['sequential', 'parallel', 'hierarchical', 'event-driven'] as const;
export const MERGE_STRATEGIES = ['all', 'first', 'vote', 'agent'] as const;
export const BRANCH_FAILURE_POLICIES = ['fail-fast', 'best-effort'] as const;

/** Separates the parts of a runtime step id (`research:web`, `plan:r1:sub-a`); forbidden in definition ids. */
export const STEP_PATH_SEPARATOR = ':';

const definitionIdSchema = identifierSchema.refine((id) => !id.includes(STEP_PATH_SEPARATOR), {
  message: `must not contain "${STEP_PATH_SEPARATOR}"`,
});

export const retryPolicySchema = z
  .object({
    /** Attempts in total, the first included. */
    maxAttempts: z.number().int().min(1).max(20),
    backoffMs: z.number().int().min(0).max(3_600_000).default(1_000),
    /** Each further retry waits this many times longer. */
    backoffMultiplier: z.number().min(1).max(10).default(2),
  })
  .strict();

const timeoutSchema = z.number().int().positive().max(86_400_000);

/**
 * Where a step's input comes from: any JSON in which a string starting with `$.`
 * is a reference: `$.input[.path]` (the workflow input), `$.previous[.path]`
 * (the previous step's output), `$.steps.<id>[.path]` (an earlier step's output).
 */
export const inputMappingSchema = jsonValueSchema;

const taskFields = {
  capability: identifierSchema,
  /** Static parameters passed alongside the step's input. */
  params: storableRecord(jsonValueSchema).optional(),
  input: inputMappingSchema.optional(),
  timeoutMs: timeoutSchema.optional(),
  retry: retryPolicySchema.optional(),
  /** Data scopes the task touches; only agents permitted for all of them are eligible. */
  scopes: z.array(identifierSchema).max(50).optional(),
};

export const taskStepSchema = z.object({ id: definitionIdSchema, ...taskFields }).strict();

const TASK_ONLY_FIELDS = ['params', 'input', 'timeoutMs', 'retry', 'scopes'] as const;
type TaskOnlyField = (typeof TASK_ONLY_FIELDS)[number];

/**
 * The last part of an agent merge's node id (`<step>:merge`). A single-task branch of that id
 * would get the same node id, so its output would be taken for the merge agent's; the id is
 * reserved rather than the merge node renamed, because node ids are persisted as step ids.
 */
export const MERGE_NODE_NAME = 'merge';

export const branchSchema = z
  .object({
    id: definitionIdSchema,
    ...taskFields,
    capability: identifierSchema.optional(),
    /** A branch of several tasks; each advances as soon as its predecessor in the branch completes. */
    steps: z.array(taskStepSchema).min(1).max(500).optional(),
  })
  .strict()
  .superRefine((branch, ctx) => {
    if (branch.steps === undefined && branch.capability === undefined) {
      ctx.addIssue({ code: 'custom', path: ['capability'], message: 'required' });
    }
    if (branch.steps !== undefined && branch.capability !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'a branch has either a capability or steps, not both' });
    }
    if (branch.steps !== undefined) {
      rejectTaskFields(branch, ctx, (field) => `not allowed on a branch with steps; set ${field} on its steps`);
    }
    if (branch.steps) ensureUniqueIds(branch.steps, ctx, ['steps']);
  });

export const mergeSchema = z
  .object({
    strategy: z.enum(MERGE_STRATEGIES),
    /** `vote`: the field of each branch output that is voted on (a dotted path). */
    field: storableStringSchema.min(1).max(200).optional(),
    /** `agent`: the capability of the agent that reconciles the branch outputs. */
    capability: identifierSchema.optional(),
    timeoutMs: timeoutSchema.optional(),
  })
  .strict()
  .superRefine((merge, ctx) => {
    if (merge.strategy === 'vote' && merge.field === undefined) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: 'required' });
    }
    if (merge.strategy === 'agent' && merge.capability === undefined) {
      ctx.addIssue({ code: 'custom', path: ['capability'], message: 'required' });
    }
  });

export const supervisorSchema = z
  .object({
    capability: identifierSchema,
    /** A plan with more subtasks is rejected (unbounded plan). */
    maxSubtasks: z.number().int().min(1).max(200).default(20),
    /** Review rounds that may ask for rework after the first round of subtasks. */
    maxReworkRounds: z.number().int().min(0).max(10).default(2),
    timeoutMs: timeoutSchema.optional(),
    retry: retryPolicySchema.optional(),
    scopes: z.array(identifierSchema).max(50).optional(),
  })
  .strict();

export const stepDefinitionSchema = z
  .object({
    id: definitionIdSchema,
    ...taskFields,
    capability: identifierSchema.optional(),
    branches: z.array(branchSchema).min(1).max(100).optional(),
    merge: mergeSchema.optional(),
    onBranchFailure: z.enum(BRANCH_FAILURE_POLICIES).optional(),
    supervisor: supervisorSchema.optional(),
  })
  .strict()
  .superRefine((step, ctx) => {
    const kinds = [step.branches && 'branches', step.supervisor && 'supervisor'].filter(Boolean);
    if (kinds.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['supervisor'], message: 'a step has either branches or a supervisor, not both' });
      return;
    }
    if (step.branches) {
      if (step.capability !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['capability'], message: 'a parallel step has branches, not a capability' });
      }
      if (step.merge === undefined) ctx.addIssue({ code: 'custom', path: ['merge'], message: 'required' });
      rejectTaskFields(step, ctx, (field) =>
        field === 'timeoutMs'
          ? 'not allowed on a parallel step; set timeoutMs on its branches (merge.timeoutMs bounds an agent merge)'
          : `not allowed on a parallel step; set ${field} on its branches`,
      );
      ensureUniqueIds(step.branches, ctx, ['branches']);
      if (step.merge?.strategy === 'agent') {
        step.branches.forEach((branch, index) => {
          if (branch.id === MERGE_NODE_NAME) {
            ctx.addIssue({
              code: 'custom',
              path: ['branches', index, 'id'],
              message: `"${MERGE_NODE_NAME}" is reserved for the merge agent of an agent merge; rename the branch`,
            });
          }
        });
      }
      return;
    }
    if (step.merge !== undefined) ctx.addIssue({ code: 'custom', path: ['merge'], message: 'only a step with branches merges' });
    if (step.onBranchFailure !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['onBranchFailure'], message: 'only a step with branches has a branch-failure policy' });
    }
    if (step.supervisor) {
      if (step.capability !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['capability'], message: 'a supervised step names its capability in supervisor' });
      }
      rejectTaskFields(step, ctx, (field) => {
        if (field === 'input') return "not allowed on a supervised step; its supervisor plans from the previous step's output";
        if (field === 'params') return 'not allowed on a supervised step; a supervisor takes no params';
        return `not allowed on a supervised step; set supervisor.${field}`;
      });
      return;
    }
    if (step.capability === undefined) ctx.addIssue({ code: 'custom', path: ['capability'], message: 'required' });
  });

export const workflowTriggerSchema = z
  .object({
    /** A CloudEvents `type` on baton.system-events, e.g. `com.example.deployment.finished`. */
    eventType: storableStringSchema.min(1).max(200),
  })
  .strict();

export const workflowDefinitionSchema = z
  .object({
    name: identifierSchema,
    pattern: z.enum(WORKFLOW_PATTERNS),
    description: storableStringSchema.max(2000).optional(),
    steps: z.array(stepDefinitionSchema).min(1).max(500),
    triggers: z.array(workflowTriggerSchema).min(1).max(50).optional(),
    /** How long an assignable task may wait for an eligible agent before it fails. */
    agentWaitTimeoutMs: timeoutSchema.optional(),
  })
  .strict()
  .superRefine((definition, ctx) => {
    ensureUniqueIds(definition.steps, ctx, ['steps']);
    const has = (predicate: (step: (typeof definition.steps)[number]) => boolean): boolean => definition.steps.some(predicate);
    if (definition.pattern === 'parallel' && !has((step) => step.branches !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'a parallel workflow needs a step with branches' });
    }
    if (definition.pattern === 'hierarchical' && !has((step) => step.supervisor !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'a hierarchical workflow needs a step with a supervisor' });
    }
    if (definition.pattern === 'event-driven' && definition.triggers === undefined) {
      ctx.addIssue({ code: 'custom', path: ['triggers'], message: 'required' });
    }
    const earlier = new Set<string>();
    definition.steps.forEach((step, index) => {
      checkReferences(step.input, earlier, index, ['steps', index, 'input'], ctx);
      step.branches?.forEach((branch, b) => {
        checkReferences(branch.input, earlier, index, ['steps', index, 'branches', b, 'input'], ctx);
        branch.steps?.forEach((inner, s) =>
          checkReferences(inner.input, earlier, index, ['steps', index, 'branches', b, 'steps', s, 'input'], ctx),
        );
      });
      earlier.add(step.id);
    });
  });

export type RetryPolicy = z.infer<typeof retryPolicySchema>;
export type TaskStepDefinition = z.infer<typeof taskStepSchema>;
export type BranchDefinition = z.infer<typeof branchSchema>;
export type MergeDefinition = z.infer<typeof mergeSchema>;
export type SupervisorDefinition = z.infer<typeof supervisorSchema>;
export type StepDefinition = z.infer<typeof stepDefinitionSchema>;
export type WorkflowDefinition = z.infer<typeof workflowDefinitionSchema>;
/** A definition as written (defaults not yet applied). */
export type WorkflowDefinitionInput = z.input<typeof workflowDefinitionSchema>;

function ensureUniqueIds(items: ReadonlyArray<{ id: string }>, ctx: z.RefinementCtx, path: PropertyKey[]): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [...path, index, 'id'], message: `duplicate step id "${item.id}"` });
    seen.add(item.id);
  });
}

function rejectTaskFields(
  value: Partial<Record<TaskOnlyField, unknown>>,
  ctx: z.RefinementCtx,
  message: (field: TaskOnlyField) => string,
): void {
  for (const field of TASK_ONLY_FIELDS) {
    if (value[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: message(field) });
  }
}

/** Every `$.steps.<id>` reference must name a step that runs earlier. */
function checkReferences(mapping: unknown, earlier: ReadonlySet<string>, index: number, path: PropertyKey[], ctx: z.RefinementCtx): void {
  if (typeof mapping === 'string') {
    const referenced = /^\$\.steps\.([^.[\]]+)/.exec(mapping)?.[1];
    if (referenced !== undefined && !earlier.has(referenced)) {
      ctx.addIssue({ code: 'custom', path, message: `references step "${referenced}", which does not run before step ${index}` });
    } else if (mapping.startsWith('$.') && !/^\$\.(input|previous|steps)(\.|$)/.test(mapping)) {
      ctx.addIssue({ code: 'custom', path, message: `unknown reference "${mapping}" (use $.input, $.previous or $.steps.<id>)` });
    }
    return;
  }
  if (Array.isArray(mapping)) {
    mapping.forEach((item, i) => checkReferences(item, earlier, index, [...path, i], ctx));
    return;
  }
  if (mapping !== null && typeof mapping === 'object') {
    for (const [key, value] of Object.entries(mapping)) checkReferences(value, earlier, index, [...path, key], ctx);
  }
}
