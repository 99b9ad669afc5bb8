import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { identifierSchema, jsonValueSchema } from '../common';
import { defineMessage } from '../message-contract';

export const ACTION_PROPOSED = 'action.proposed';

/**
 * An agent proposes an action on a shared resource (a ticket, a config, a
 * stakeholder). Agents never change the world directly: the coordinator orders
 * proposals per resource (the key), applies priority and merge rules, asks
 * governance, and sends high-impact or low-confidence ones to a human. The
 * envelope id is the proposal id.
 */
export const actionProposed = defineMessage({
  type: ACTION_PROPOSED,
  version: 1,
  topic: TOPICS.actionsProposed,
  summary: 'An agent proposes an action on a resource; the coordinator orders, governs and executes (or escalates) it.',
  payload: z
    .object({
      /** The resource acted on, e.g. `ticket:INC-42`; the Kafka key, so one resource's proposals stay in order. */
      resource: identifierSchema,
      action: identifierSchema,
      parameters: z.record(z.string(), jsonValueSchema).default({}),
      impact: z.enum(['low', 'medium', 'high']).default('medium'),
      /** The proposing agent's confidence in the action, 0..1. */
      confidence: z.number().min(0).max(1).optional(),
      rationale: z.string().max(4_000).optional(),
      taskId: z.uuid(),
      workflowId: z.uuid(),
      stepId: identifierSchema,
      agentId: identifierSchema,
    })
    .strict(),
  key: (envelope) => envelope.payload.resource,
});
