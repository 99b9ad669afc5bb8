import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { jsonValueSchema } from '../common';
import { defineMessage } from '../message-contract';
import { workflowDefinitionSchema } from './workflow-definition';

export const WORKFLOW_REQUESTED = 'workflow.requested';

export const workflowRequestedPayloadSchema = z
  .object({
    workflowId: z.uuid(),
    definition: workflowDefinitionSchema,
    input: jsonValueSchema,
    requestedBy: z.string().min(1).max(200),
  })
  .strict();

export const workflowRequested = defineMessage({
  type: WORKFLOW_REQUESTED,
  version: 1,
  topic: TOPICS.workflowRequests,
  summary: 'Start a workflow from a definition and an input.',
  payload: workflowRequestedPayloadSchema,
  key: (envelope) => envelope.payload.workflowId,
});
