import type { EntityManager } from 'typeorm';
import { DEFAULT_CLAIM_THRESHOLD_BYTES, DEFAULT_MAX_MESSAGE_BYTES, planOutgoing } from '@baton/bus';
import { type Envelope, type MessageContract, serializeEnvelope } from '@baton/contracts';
import { writeClaim } from '../claims/postgres-claim-store';
import { PersistenceConfigError } from '../errors';

export interface OutboxClaimOptions {
  /** Envelopes serialized above this are stored as a claim and enqueued by reference. Default 256 KiB. */
  claimThresholdBytes?: number;
  /** What the broker accepts (its `message.max.bytes`). Default 1 MiB. */
  maxMessageBytes?: number;
}

export function resolveOutboxClaimOptions(options: OutboxClaimOptions = {}): Required<OutboxClaimOptions> {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const claimThresholdBytes = options.claimThresholdBytes ?? Math.min(DEFAULT_CLAIM_THRESHOLD_BYTES, maxMessageBytes);
  if (!Number.isInteger(claimThresholdBytes) || claimThresholdBytes < 1 || claimThresholdBytes > maxMessageBytes) {
    throw new PersistenceConfigError(
      `claimThresholdBytes must be an integer between 1 and maxMessageBytes (${maxMessageBytes}), got ${claimThresholdBytes}`,
    );
  }
  return { claimThresholdBytes, maxMessageBytes };
}

/**
 * The bytes each message is enqueued with. One over the threshold has its
 * payload written as a claim with the same manager, so the claim commits with
 * the outbox row that refers to it and a rollback leaves neither; the relay
 * then only ever sends small records.
 */
export async function encodeForOutbox(
  manager: EntityManager,
  messages: ReadonlyArray<{ contract: MessageContract<unknown>; envelope: Envelope<unknown> }>,
  options: Required<OutboxClaimOptions>,
): Promise<Buffer[]> {
  const encoded: Buffer[] = [];
  for (const { contract, envelope } of messages) {
    const plan = planOutgoing(envelope, serializeEnvelope(envelope), contract.topic, {
      thresholdBytes: options.claimThresholdBytes,
      maxMessageBytes: options.maxMessageBytes,
      store: 'postgres',
    });
    if (plan.claim !== undefined) await writeClaim(manager, plan.claim);
    encoded.push(plan.value);
  }
  return encoded;
}
