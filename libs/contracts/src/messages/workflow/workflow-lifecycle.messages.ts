import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { errorInfoSchema, identifierSchema } from '../common';
import { defineMessage } from '../message-contract';

/** Transitions of the workflow log beyond the first cut's started/dispatched/completed/failed. */
export const WORKFLOW_CANCELLED = 'workflow.cancelled';
export const STEP_CANCELLED = 'workflow.step.cancelled';
export const STEP_RETRY_SCHEDULED = 'workflow.step.retry_scheduled';

const byWorkflow = (envelope: { payload: { workflowId: string } }): string => envelope.payload.workflowId;

export const workflowCancelled = defineMessage({
  type: WORKFLOW_CANCELLED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A workflow was cancelled; its open step attempts were asked to stop.',
  payload: z.object({ workflowId: z.uuid(), reason: z.string().min(1).max(500), requestedBy: z.string().min(1).max(200) }).strict(),
  key: byWorkflow,
});

export const stepCancelled = defineMessage({
  type: STEP_CANCELLED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A step attempt was abandoned (workflow cancelled, branch no longer needed, or timed out).',
  payload: z
    .object({
      workflowId: z.uuid(),
      stepId: identifierSchema,
      taskId: z.uuid(),
      attempt: z.number().int().positive(),
      reason: z.enum(['workflow_cancelled', 'timed_out', 'superseded']),
    })
    .strict(),
  key: byWorkflow,
});

export const stepRetryScheduled = defineMessage({
  type: STEP_RETRY_SCHEDULED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A failed or timed-out step attempt will be retried after a backoff.',
  payload: z
    .object({
      workflowId: z.uuid(),
      stepId: identifierSchema,
      nextAttempt: z.number().int().positive(),
      notBefore: z.iso.datetime({ offset: true }),
      error: errorInfoSchema,
    })
    .strict(),
  key: byWorkflow,
});
