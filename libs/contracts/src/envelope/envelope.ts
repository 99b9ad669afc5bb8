import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { storableStringSchema } from '../messages/common';

/** Where a claim-checked payload is kept; one value per store kind, so a reader knows how to fetch it. */
export const CLAIM_STORES = ['postgres'] as const;
export type ClaimStoreKind = (typeof CLAIM_STORES)[number];

/**
 * A claim check: the envelope's payload is too big for Kafka, so it was stored
 * (the UTF-8 JSON of the payload, byte for byte) and the envelope carries this
 * reference with `payload: null`. `version` lets the reference's shape evolve
 * without touching any message contract; `bytes` and `sha256` let a reader
 * prove it got exactly what was written.
 */
export const payloadRefSchema = z
  .object({
    version: z.literal(1),
    store: z.enum(CLAIM_STORES),
    id: z.uuid(),
    bytes: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  })
  .strict();
export type PayloadRef = z.infer<typeof payloadRefSchema>;

/** Consumers store header fields (the router keeps `correlationId` in a text column). */
const headerStringSchema = storableStringSchema.min(1).max(200);

/**
 * The one JSON envelope every message on every Baton topic travels in.
 * `payload` is validated separately against the schema registered for
 * (`type`, `version`), so an envelope can be routed before its payload is known.
 */
export const envelopeSchema = z
  .object({
    id: z.uuid(),
    type: headerStringSchema,
    version: z.number().int().positive(),
    occurredAt: z.iso.datetime({ offset: true }),
    source: headerStringSchema,
    correlationId: headerStringSchema,
    causationId: headerStringSchema.optional(),
    workflowId: headerStringSchema.optional(),
    stepId: headerStringSchema.optional(),
    agentId: headerStringSchema.optional(),
    team: headerStringSchema.optional(),
    /** Set when the payload travels by reference (claim check); `payload` is then null. */
    payloadRef: payloadRefSchema.optional(),
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
