import { createHash } from 'node:crypto';
import type { Envelope, PayloadRef } from './envelope';

/**
 * A claim check cannot be honoured: no store to read it from, the claim is
 * gone (retention, another database) or it is not what the reference says.
 * Retrying cannot help, so a consumer dead-letters the message at once.
 */
export class ClaimCheckError extends Error {
  override readonly name = 'ClaimCheckError';
  readonly retryable = false;
}

/** What a claim stores: the payload's UTF-8 JSON, which a reader parses back. */
export function payloadBytes(envelope: Pick<Envelope, 'payload'>): Buffer {
  return Buffer.from(JSON.stringify(envelope.payload), 'utf8');
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The envelope as it travels once its payload is stored under `ref`. */
export function withPayloadRef<P>(envelope: Envelope<P>, ref: PayloadRef): Envelope<null> {
  return { ...envelope, payloadRef: ref, payload: null };
}

/** The payload a claim holds, after proving it is the one the reference names. */
export function readClaimedPayload(ref: PayloadRef, data: Buffer | undefined): unknown {
  if (data === undefined) {
    throw new ClaimCheckError(`payloadRef: ${ref.store} claim ${ref.id} not found (deleted by retention, or written to another database)`);
  }
  if (data.length !== ref.bytes) {
    throw new ClaimCheckError(`payloadRef: ${ref.store} claim ${ref.id} is corrupt: ${data.length} bytes, the reference says ${ref.bytes}`);
  }
  const actual = sha256Hex(data);
  if (actual !== ref.sha256) {
    throw new ClaimCheckError(`payloadRef: ${ref.store} claim ${ref.id} is corrupt: sha256 ${actual}, the reference says ${ref.sha256}`);
  }
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch (error) {
    throw new ClaimCheckError(`payloadRef: ${ref.store} claim ${ref.id} is not JSON (${(error as Error).message})`);
  }
}
