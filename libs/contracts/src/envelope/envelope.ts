import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * The one JSON envelope every message on every Baton topic travels in.
 * `payload` is validated separately against the schema registered for
 * (`type`, `version`), so an envelope can be routed before its payload is known.
 */
export const envelopeSchema = z
  .object({
    id: z.uuid(),
    type: z.string().min(1).max(200),
    version: z.number().int().positive(),
    occurredAt: z.iso.datetime({ offset: true }),
    source: z.string().min(1).max(200),
    correlationId: z.string().min(1).max(200),
    causationId: z.string().min(1).max(200).optional(),
    workflowId: z.string().min(1).max(200).optional(),
    stepId: z.string().min(1).max(200).optional(),
    agentId: z.string().min(1).max(200).optional(),
    team: z.string().min(1).max(200).optional(),
    payload: z.unknown(),
  })
  .strict();

export type EnvelopeHeader = Omit<z.infer<typeof envelopeSchema>, 'payload'>;

export interface Envelope<P = unknown> extends EnvelopeHeader {
  payload: P;
}

/** Fields a publisher sets; `id`, `occurredAt` and `version` are filled in. */
export interface EnvelopeMeta {
  source: string;
  correlationId: string;
  causationId?: string;
  workflowId?: string;
  stepId?: string;
  agentId?: string;
  team?: string;
  id?: string;
  occurredAt?: string;
}

/** Meta for a message caused by another: same correlation, causation = the cause's id. */
export function causedBy(cause: EnvelopeHeader, source: string): EnvelopeMeta {
  return {
    source,
    correlationId: cause.correlationId,
    causationId: cause.id,
    ...(cause.workflowId !== undefined ? { workflowId: cause.workflowId } : {}),
  };
}

export function newEnvelopeId(): string {
  return randomUUID();
}
