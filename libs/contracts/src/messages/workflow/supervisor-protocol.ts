import { z } from 'zod';
import { identifierSchema, jsonValueSchema } from '../common';
import { STEP_PATH_SEPARATOR } from './workflow-definition';

/**
 * What a supervisor agent (a `supervisor` step of a hierarchical workflow)
 * receives and must answer. The router sends `{ phase: 'plan', task }` and
 * expects a plan; after each round of subtasks it sends
 * `{ phase: 'review', task, round, final, results }` and expects an accepted
 * answer or a rework plan (refused once `final` is true).
 */
export const SUPERVISOR_PHASES = ['plan', 'review'] as const;

export const subtaskSchema = z
  .object({
    id: identifierSchema.refine((id) => !id.includes(STEP_PATH_SEPARATOR), { message: `must not contain "${STEP_PATH_SEPARATOR}"` }),
    capability: identifierSchema,
    input: jsonValueSchema.optional(),
    /** Subtasks of the same plan whose outputs this one needs; the plan must be acyclic. */
    dependsOn: z.array(identifierSchema).max(200).optional(),
  })
  .strict();

export const supervisorPlanSchema = z.object({ subtasks: z.array(subtaskSchema).min(1) }).strict();

export const supervisorReviewSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('accept'), answer: jsonValueSchema }).strict(),
  z.object({ decision: z.literal('rework'), subtasks: z.array(subtaskSchema).min(1) }).strict(),
]);

export type Subtask = z.infer<typeof subtaskSchema>;
export type SupervisorPlan = z.infer<typeof supervisorPlanSchema>;
export type SupervisorReview = z.infer<typeof supervisorReviewSchema>;
