import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { errorInfoSchema, identifierSchema, jsonValueSchema, usageSchema } from '../common';
import { defineMessage } from '../message-contract';

export const TASK_ASSIGNED = 'task.assigned';
export const TASK_COMPLETED = 'task.completed';
export const TASK_FAILED = 'task.failed';
export const TASK_CANCEL_REQUESTED = 'task.cancel_requested';

const taskRef = {
  taskId: z.uuid(),
  workflowId: z.uuid(),
  stepId: identifierSchema,
  attempt: z.number().int().positive(),
};

export const taskAssigned = defineMessage({
  type: TASK_ASSIGNED,
  version: 1,
  topic: TOPICS.tasksAssigned,
  summary: 'A step attempt for an agent with the capability; runners execute it.',
  payload: z
    .object({
      ...taskRef,
      capability: identifierSchema,
      /** Set when the router chose an instance; absent means any agent with the capability. */
      agentId: identifierSchema.optional(),
      input: jsonValueSchema,
      timeoutMs: z.number().int().positive(),
      /** Data scopes the task may touch; the router only chose an agent permitted for all of them. */
      scopes: z.array(identifierSchema).max(50).optional(),
    })
    .strict(),
  key: (envelope) => envelope.payload.agentId ?? envelope.payload.workflowId,
});

export const taskCompleted = defineMessage({
  type: TASK_COMPLETED,
  version: 1,
  topic: TOPICS.tasksResults,
  summary: 'An agent finished a step attempt.',
  payload: z
    .object({
      ...taskRef,
      agentId: identifierSchema,
      output: jsonValueSchema,
      confidence: z.number().min(0).max(1),
      usage: usageSchema,
      /** Ids of the context-graph facts attached to the task before its first model call (absent: none). */
      contextFactIds: z.array(z.uuid()).max(200).optional(),
    })
    .strict(),
  key: (envelope) => envelope.payload.workflowId,
});

export const taskFailed = defineMessage({
  type: TASK_FAILED,
  version: 1,
  topic: TOPICS.tasksResults,
  summary: 'An agent could not finish a step attempt.',
  payload: z
    .object({
      ...taskRef,
      agentId: identifierSchema,
      error: errorInfoSchema,
      /** The model's last answer when it could not be turned into a valid output (kept for diagnosis). */
      rawOutput: z.string().max(20_000).optional(),
    })
    .strict(),
  key: (envelope) => envelope.payload.workflowId,
});

export const taskCancelRequested = defineMessage({
  type: TASK_CANCEL_REQUESTED,
  version: 1,
  topic: TOPICS.tasksAssigned,
  summary: 'Stop a step attempt (workflow cancelled or attempt timed out); runners abandon it and report nothing further.',
  payload: z
    .object({
      ...taskRef,
      agentId: identifierSchema.optional(),
      reason: z.enum(['workflow_cancelled', 'timed_out', 'superseded']),
    })
    .strict(),
  key: (envelope) => envelope.payload.agentId ?? envelope.payload.workflowId,
});
