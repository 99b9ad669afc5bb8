import type { EntityManager } from 'typeorm';
import type { Envelope, MessageContract } from '@baton/contracts';
import { outboxChannel, qualifiedName } from '../data-source/identifiers';
import { schemaOf } from '../data-source/postgres-schema';
import { PersistenceUsageError } from '../errors';
import { buildOutboxHeaders } from './outbox-headers';
import { encodeForOutbox, type OutboxClaimOptions, resolveOutboxClaimOptions } from './outbox-claims';

/** One message for Outbox.enqueueMany (the entity is OutboxMessage). */
export interface QueuedMessage {
  contract: MessageContract<unknown>;
  envelope: Envelope<unknown>;
}

/** A typed pair for enqueueMany; the payload type is checked here, once. */
export function queued<P>(contract: MessageContract<P>, envelope: Envelope<P>): QueuedMessage {
  return { contract: contract as MessageContract<unknown>, envelope: envelope as Envelope<unknown> };
}

/**
 * Records messages to publish in the same transaction as the state change that
 * causes them; the OutboxRelay sends them after commit.
 */
export class Outbox {
  private readonly claims: Required<OutboxClaimOptions>;

  /** Envelopes over `claimThresholdBytes` are enqueued by reference (claim check, see outbox-claims.ts). */
  constructor(options: OutboxClaimOptions = {}) {
    this.claims = resolveOutboxClaimOptions(options);
  }

  /**
   * `manager` must be the transactional manager of the caller's transaction
   * (`dataSource.transaction(async (manager) => ...)`): outside one, the message
   * and the state change could commit separately.
   */
  async enqueue<P>(manager: EntityManager, contract: MessageContract<P>, envelope: Envelope<P>): Promise<void> {
    await this.enqueueMany(manager, [queued(contract, envelope)]);
  }

  /**
   * All the messages of one state change in one round trip (a multi-row
   * INSERT that also raises the relay's NOTIFY), in the given order.
   */
  async enqueueMany(manager: EntityManager, messages: ReadonlyArray<QueuedMessage>): Promise<void> {
    if (manager.queryRunner === undefined || !manager.queryRunner.isTransactionActive) {
      throw new PersistenceUsageError('Outbox.enqueue must be called with the EntityManager of an open transaction');
    }
    if (messages.length === 0) return;
    const encoded = await encodeForOutbox(manager, messages, this.claims);
    const values: unknown[] = [];
    const tuples = messages.map(({ contract, envelope }, index) => {
      if (envelope.type !== contract.type || envelope.version !== contract.version) {
        throw new PersistenceUsageError(
          `envelope ${envelope.type}@${envelope.version} does not match contract ${contract.type}@${contract.version}`,
        );
      }
      const n = values.length;
      values.push(envelope.id, contract.topic, contract.key(envelope), encoded[index], JSON.stringify(buildOutboxHeaders(envelope)));
      return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}::jsonb)`;
    });
    const schema = schemaOf(manager.connection);
    values.push(outboxChannel(schema));
    // seq follows VALUES order. NOTIFY is delivered at commit only (dropped on rollback); duplicates within one transaction collapse.
    await manager.query(
      `WITH queued AS (
         INSERT INTO ${qualifiedName(schema, 'outbox_messages')} (id, topic, message_key, value, headers)
         VALUES ${tuples.join(', ')} RETURNING 1
       )
       SELECT pg_notify($${values.length}, '') FROM (SELECT count(*) FROM queued) AS flushed`,
      values,
    );
  }
}
