import { z } from 'zod';
import { TOPICS } from '../../topics/topics';
import { identifierSchema, storableStringSchema } from '../common';
import { defineMessage } from '../message-contract';

export const AGENT_HEARTBEAT = 'agent.heartbeat';

export const agentHeartbeat = defineMessage({
  type: AGENT_HEARTBEAT,
  version: 1,
  topic: TOPICS.agentHeartbeats,
  summary: 'An agent instance announces itself and its live load.',
  payload: z
    .object({
      agentId: identifierSchema,
      instanceId: identifierSchema,
      team: identifierSchema,
      capabilities: z.array(identifierSchema).min(1),
      scopes: z.array(identifierSchema),
      models: z.array(storableStringSchema.min(1)),
      maxConcurrency: z.number().int().positive(),
      inFlight: z.number().int().nonnegative(),
      startedAt: z.iso.datetime({ offset: true }),
    })
    .strict(),
  key: (envelope) => envelope.payload.agentId,
});
