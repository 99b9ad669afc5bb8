import type { EntityManager } from 'typeorm';
import type { Envelope, MessageContract } from '@baton/contracts';
import { outboxChannel, qualifiedName } from '../data-source/identifiers';
import { schemaOf } from '../data-source/postgres-schema';
import { PersistenceUsageError } from '../errors';
import { buildOutboxHeaders } from './outbox-headers';
import { encodeForOutbox, type OutboxClaimOptions, resolveOutboxClaimOptions } from './outbox-claims';

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
    if (manager.queryRunner === undefined || !manager.queryRunner.isTransactionActive) {
      throw new PersistenceUsageError('Outbox.enqueue must be called with the EntityManager of an open transaction');
    }
    if (envelope.type !== contract.type || envelope.version !== contract.version) {
      throw new PersistenceUsageError(
        `envelope ${envelope.type}@${envelope.version} does not match contract ${contract.type}@${contract.version}`,
      );
    }
    const [value] = await encodeForOutbox(
      manager,
      [{ contract: contract as MessageContract<unknown>, envelope: envelope as Envelope<unknown> }],
      this.claims,
    );
    const schema = schemaOf(manager.connection);
    await manager.query(
      `INSERT INTO ${qualifiedName(schema, 'outbox_messages')} (id, topic, message_key, value, headers)
       VALUES ($1, $2, $3, $4, $5::jsonb)`,
      [
        envelope.id,
        contract.topic,
        contract.key(envelope),
        value,
        JSON.stringify(buildOutboxHeaders(envelope)),
      ],
    );
    // Delivered at commit only (and dropped on rollback); duplicates within one transaction collapse.
    await manager.query(`SELECT pg_notify($1, '')`, [outboxChannel(schema)]);
  }
}
