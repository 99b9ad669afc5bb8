import { randomUUID } from 'node:crypto';
import {
  type ClaimStoreKind,
  type DecodedEnvelope,
  type Envelope,
  type ParsedEnvelope,
  ClaimCheckError,
  ContractValidationError,
  completeEnvelope,
  payloadBytes,
  readClaimedPayload,
  serializeEnvelope,
  sha256Hex,
  withPayloadRef,
} from '@baton/contracts';
import type { Claim, ClaimStore } from './claim-store';

/** Kafka's default `message.max.bytes` is 1 MiB plus record overhead; this is what we assume the broker accepts. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;
/** Well under Kafka's limit, so an envelope with a reference never comes near it. */
export const DEFAULT_CLAIM_THRESHOLD_BYTES = 262_144;

export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';
  readonly retryable = false;
  constructor(
    readonly type: string,
    readonly topic: string,
    readonly bytes: number,
    readonly limitBytes: number,
    hint: string,
  ) {
    super(`${type} on ${topic} is ${bytes} bytes serialized; the limit is ${limitBytes} bytes (maxMessageBytes)${hint}`);
  }
}

export type OutgoingPlan = { value: Buffer; claim?: undefined } | { value: Buffer; claim: Claim };

/**
 * Decides how an envelope travels: inline when its serialized form is at most
 * `thresholdBytes`, otherwise (when a store of `kind` exists) its payload
 * becomes a claim and a small envelope with a `payloadRef` is sent instead.
 * Pure: the caller writes the claim (inside its transaction, or to a store)
 * before the value can reach Kafka.
 */
export function planOutgoing(
  envelope: Envelope,
  value: Buffer,
  topic: string,
  options: { thresholdBytes: number; maxMessageBytes: number; store: ClaimStoreKind | undefined },
): OutgoingPlan {
  if (value.length <= options.thresholdBytes || options.store === undefined) {
    if (value.length > options.maxMessageBytes) {
      throw new MessageTooLargeError(
        envelope.type,
        topic,
        value.length,
        options.maxMessageBytes,
        options.store === undefined ? '; no claim store is configured to carry it by reference' : '',
      );
    }
    return { value };
  }
  const data = payloadBytes(envelope);
  const claim: Claim = { id: randomUUID(), data, sha256: sha256Hex(data), topic, type: envelope.type };
  const small = serializeEnvelope(
    withPayloadRef(envelope, { version: 1, store: options.store, id: claim.id, bytes: data.length, sha256: claim.sha256 }),
  );
  if (small.length > options.maxMessageBytes) {
    // Only the envelope's own fields are left, and they are bounded; kept so the limit holds whatever happens.
    throw new MessageTooLargeError(envelope.type, topic, small.length, options.maxMessageBytes, ' even with its payload claim-checked');
  }
  return { value: small, claim };
}

/**
 * Fetches and verifies the payload of a claim-checked envelope, then validates
 * it like an inline one. Every failure that retrying cannot fix is a
 * ClaimCheckError (non-retryable: straight to the DLQ with the reason); a store
 * that is down throws its own error, which the subscription retries.
 */
export async function resolveClaimed(decoded: DecodedEnvelope, store: ClaimStore | undefined): Promise<ParsedEnvelope> {
  const ref = decoded.header.payloadRef;
  if (ref === undefined) return completeEnvelope(decoded, decoded.payload);
  if (store === undefined) {
    throw new ClaimCheckError(
      `payloadRef: ${decoded.contract.type} arrived as a claim check (${ref.store} claim ${ref.id}) but this consumer has no claim store configured`,
    );
  }
  if (store.kind !== ref.store) {
    throw new ClaimCheckError(`payloadRef: claim ${ref.id} is in a ${ref.store} store; this consumer reads ${store.kind}`);
  }
  const payload = readClaimedPayload(ref, await store.get(ref.id));
  try {
    return completeEnvelope(decoded, payload);
  } catch (error) {
    if (error instanceof ContractValidationError) throw new ClaimCheckError(`claim ${ref.id}: ${error.message}`);
    throw error;
  }
}
