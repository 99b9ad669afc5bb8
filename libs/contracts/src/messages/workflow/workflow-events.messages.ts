import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { errorInfoSchema, identifierSchema, jsonValueSchema } from '../common';
import { defineMessage } from '../message-contract';
import { workflowDefinitionSchema } from './workflow-definition';

export const WORKFLOW_STARTED = 'workflow.started';
export const STEP_DISPATCHED = 'workflow.step.dispatched';
export const STEP_COMPLETED = 'workflow.step.completed';
export const STEP_FAILED = 'workflow.step.failed';
export const WORKFLOW_COMPLETED = 'workflow.completed';
export const WORKFLOW_FAILED = 'workflow.failed';

const byWorkflow = (envelope: { payload: { workflowId: string } }): string => envelope.payload.workflowId;

const stepRef = {
  workflowId: z.uuid(),
  stepId: identifierSchema,
  taskId: z.uuid(),
  attempt: z.number().int().positive(),
};

export const workflowStarted = defineMessage({
  type: WORKFLOW_STARTED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A workflow was accepted and persisted.',
  payload: z.object({ workflowId: z.uuid(), definition: workflowDefinitionSchema, input: jsonValueSchema }).strict(),
  key: byWorkflow,
});

export const stepDispatched = defineMessage({
  type: STEP_DISPATCHED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A step attempt was assigned and sent to runners.',
  payload: z
    .object({
      ...stepRef,
      capability: identifierSchema,
      input: jsonValueSchema,
      /** The agent the router chose; absent in logs from before the registry. */
      agentId: identifierSchema.optional(),
    })
    .strict(),
  key: byWorkflow,
});

export const stepCompleted = defineMessage({
  type: STEP_COMPLETED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A step attempt produced its output.',
  payload: z.object({ ...stepRef, agentId: identifierSchema, output: jsonValueSchema, confidence: z.number().min(0).max(1) }).strict(),
  key: byWorkflow,
});

export const stepFailed = defineMessage({
  type: STEP_FAILED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A step attempt failed.',
  payload: z.object({ ...stepRef, error: errorInfoSchema }).strict(),
  key: byWorkflow,
});

export const workflowCompleted = defineMessage({
  type: WORKFLOW_COMPLETED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A workflow finished; its output is the last step output.',
  payload: z.object({ workflowId: z.uuid(), output: jsonValueSchema }).strict(),
  key: byWorkflow,
});

export const workflowFailed = defineMessage({
  type: WORKFLOW_FAILED,
  version: 1,
  topic: TOPICS.workflowEvents,
  summary: 'A workflow ended without completing.',
  payload: z.object({ workflowId: z.uuid(), stepId: identifierSchema.optional(), error: errorInfoSchema }).strict(),
  key: byWorkflow,
});
