import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { errorInfoSchema, identifierSchema } from '../common';
import { defineMessage } from '../message-contract';

/** Transitions of the workflow log beyond the first cut's started/dispatched/completed/failed. */
export const WORKFLOW_CANCELLED = 'workflow.cancelled';
export const STEP_CANCELLED = 'workflow.step.cancelled';
export const STEP_RETRY_SCHEDULED = 'workflow.step.retry_scheduled';
export const STEP_WAITING_FOR_AGENT = 'workflow.step.waiting_for_agent';
export const STEP_REASSIGNED = 'workflow.step.reassigned';

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

export const stepWaitingForAgent = defineMessage({
  type: STEP_WAITING_FOR_AGENT,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'No agent is eligible for a ready step attempt (capability, permission, capacity); it waits, with the reason.',
  payload: z
    .object({
      workflowId: z.uuid(),
      stepId: identifierSchema,
      taskId: z.uuid(),
      attempt: z.number().int().positive(),
      capability: identifierSchema,
      reason: z.string().min(1).max(2000),
      waitUntil: z.iso.datetime({ offset: true }),
    })
    .strict(),
  key: byWorkflow,
});

export const stepReassigned = defineMessage({
  type: STEP_REASSIGNED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'An open step attempt moved to another agent because its agent stopped heartbeating (same task id: effects stay once).',
  payload: z
    .object({
      workflowId: z.uuid(),
      stepId: identifierSchema,
      taskId: z.uuid(),
      attempt: z.number().int().positive(),
      fromAgentId: identifierSchema,
      reason: z.string().min(1).max(2000),
    })
    .strict(),
  key: byWorkflow,
});
