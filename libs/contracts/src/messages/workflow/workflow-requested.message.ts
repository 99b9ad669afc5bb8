import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { jsonValueSchema, storableStringSchema } from '../common';
import { defineMessage } from '../message-contract';
import { workflowDefinitionSchema } from './workflow-definition';

export const WORKFLOW_REQUESTED = 'workflow.requested';

export const workflowRequestedPayloadSchema = z
  .object({
    workflowId: z.uuid(),
    definition: workflowDefinitionSchema,
    input: jsonValueSchema,
    requestedBy: storableStringSchema.min(1).max(200),
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

export const WORKFLOW_REQUESTED_BY_NAME = 'workflow.requested_by_name';

/** Start a registered definition by name: what event-triggers and the CLI send (event-driven workflows). */
export const workflowRequestedByName = defineMessage({
  type: WORKFLOW_REQUESTED_BY_NAME,
  version: 1,
  topic: TOPICS.workflowRequests,
  summary: 'Start a workflow from a registered definition, named, and an input.',
  payload: z
    .object({
      workflowId: z.uuid(),
      definitionName: storableStringSchema.min(1).max(200),
      input: jsonValueSchema,
      requestedBy: storableStringSchema.min(1).max(200),
      /** The system event that caused the request, when a trigger fired. */
      trigger: z
        .object({ eventType: storableStringSchema.min(1).max(200), eventId: storableStringSchema.min(1).max(200).optional() })
        .strict()
        .optional(),
    })
    .strict(),
  key: (envelope) => envelope.payload.workflowId,
});
