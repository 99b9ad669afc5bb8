import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { identifierSchema, jsonValueSchema } from '../common';
import { defineMessage } from '../message-contract';

export const AGENT_TOOL_CALLED = 'agent.tool_called';

/**
 * Audit record of a tool call an agent's model made: what was asked, and
 * whether it ran, was denied (tool not granted, scope missing) or had invalid
 * arguments. Denials are recorded as well as successes.
 */
export const agentToolCalled = defineMessage({
  type: AGENT_TOOL_CALLED,
  version: 1,
  topic: TOPICS.audit,
  summary: 'An agent called a tool: allowed, denied (with the reason) or rejected for invalid arguments.',
  payload: z
    .object({
      taskId: z.uuid(),
      workflowId: z.uuid(),
      stepId: identifierSchema,
      agentId: identifierSchema,
      tool: z.string().min(1).max(200),
      outcome: z.enum(['allowed', 'denied', 'invalid_arguments', 'failed']),
      reason: z.string().max(2_000).optional(),
      /** The arguments as the model sent them (parsed when JSON, else the raw text). */
      arguments: jsonValueSchema,
    })
    .strict(),
  key: (envelope) => envelope.correlationId,
});
