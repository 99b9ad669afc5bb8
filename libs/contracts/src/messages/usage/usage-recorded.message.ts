import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { identifierSchema } from '../common';
import { defineMessage } from '../message-contract';

export const USAGE_RECORDED = 'usage.recorded';

const modelUsageSchema = z
  .object({
    /** `provider/model` that answered. */
    model: z.string().min(1),
    calls: z.number().int().positive(),
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    costUsd: z.number().nonnegative(),
  })
  .strict();

/**
 * What one task attempt consumed, for budgets: totals plus a line per model.
 * Published whether the attempt completed or failed (a failed attempt still
 * cost money). The envelope id is derived from the task id, so a re-executed
 * attempt does not count twice.
 */
export const usageRecorded = defineMessage({
  type: USAGE_RECORDED,
  version: 1,
  topic: TOPICS.governanceUsage,
  summary: 'Tokens and cost of one task attempt (every model call it made), reported against the workflow budget.',
  payload: z
    .object({
      taskId: z.uuid(),
      workflowId: z.uuid(),
      stepId: identifierSchema,
      attempt: z.number().int().positive(),
      agentId: identifierSchema,
      team: identifierSchema,
      outcome: z.enum(['completed', 'failed']),
      inputTokens: z.number().int().nonnegative(),
      outputTokens: z.number().int().nonnegative(),
      costUsd: z.number().nonnegative(),
      models: z.array(modelUsageSchema),
    })
    .strict(),
  key: (envelope) => envelope.payload.workflowId,
});
