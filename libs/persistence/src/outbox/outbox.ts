import { type Context, context } from '@opentelemetry/api';
import type { EntityManager } from 'typeorm';
import type { Envelope, MessageContract } from '@baton/contracts';
import { outboxChannel, qualifiedName } from '../data-source/identifiers';
import { schemaOf } from '../data-source/postgres-schema';
import { PersistenceUsageError } from '../errors';
import { buildOutboxHeaders } from './outbox-headers';
import { combineStatements, type SqlStatement } from '../data-source/sql-statement';
import { encodeForOutbox, type OutboxClaimOptions, resolveOutboxClaimOptions } from './outbox-claims';
import { type CommittedOutboxRow, recordForHandoff, willHandOff } from './outbox-handoff';

/** One message for Outbox.enqueueMany (the entity is OutboxMessage). */
export interface QueuedMessage {
  contract: MessageContract<unknown>;
  envelope: Envelope<unknown>;
  /**
   * The trace the message continues: the context active where it was caused,
   * which for a batch of messages written in one transaction differs per message.
   */
  traceContext: Context;
}

/** A typed pair for enqueueMany; the payload type is checked here, once, and the active trace context captured. */
export function queued<P>(contract: MessageContract<P>, envelope: Envelope<P>): QueuedMessage {
  return { contract: contract as MessageContract<unknown>, envelope: envelope as Envelope<unknown>, traceContext: context.active() };
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
   * All the messages of one state change in one round trip, in the given
   * order, together with the state change's own `writes` when given (they go
   * in the same statement, see combineStatements). When this process's relay
   * is the schema's publisher the rows are handed to it at commit
   * (outbox-handoff.ts); otherwise the statement also raises the NOTIFY that
   * wakes the publishing relay.
   */
  async enqueueMany(manager: EntityManager, messages: ReadonlyArray<QueuedMessage>, writes: readonly SqlStatement[] = []): Promise<void> {
    const queryRunner = manager.queryRunner;
    if (queryRunner === undefined || !queryRunner.isTransactionActive) {
      throw new PersistenceUsageError('Outbox.enqueue must be called with the EntityManager of an open transaction');
    }
    if (messages.length === 0) {
      if (writes.length > 0) {
        const { sql, values } = combineStatements(writes, () => ({ sql: 'SELECT 1', values: [] }));
        await manager.query(sql, [...values]);
      }
      return;
    }
    const encoded = await encodeForOutbox(manager, messages, this.claims);
    const values: unknown[] = [];
    const rows: Array<Omit<CommittedOutboxRow, 'seq'> & { id: string }> = [];
    const tuples = messages.map(({ contract, envelope, traceContext }, index) => {
      if (envelope.type !== contract.type || envelope.version !== contract.version) {
        throw new PersistenceUsageError(
          `envelope ${envelope.type}@${envelope.version} does not match contract ${contract.type}@${contract.version}`,
        );
      }
      const row = {
        id: envelope.id,
        topic: contract.topic,
        key: contract.key(envelope),
        value: encoded[index] as Buffer,
        headers: buildOutboxHeaders(envelope, traceContext),
      };
      rows.push(row);
      const n = values.length;
      values.push(envelope.id, row.topic, row.key, row.value, JSON.stringify(row.headers));
      return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}::jsonb)`;
    });
    const schema = schemaOf(manager.connection);
    const insert: SqlStatement = {
      sql: `INSERT INTO ${qualifiedName(schema, 'outbox_messages')} (id, topic, message_key, value, headers)
         VALUES ${tuples.join(', ')} RETURNING seq, id`,
      values,
    };
    const handOff = willHandOff(queryRunner);
    const statement = combineStatements([...writes, insert], (names) => {
      const queued = names[names.length - 1] as string;
      // NOTIFY is delivered at commit only (dropped on rollback); duplicates within one transaction collapse.
      return handOff
        ? { sql: `SELECT seq, id FROM ${queued}`, values: [] }
        : { sql: `SELECT pg_notify($1, '') FROM (SELECT count(*) FROM ${queued}) AS flushed`, values: [outboxChannel(schema)] };
    });
    const inserted: Array<{ seq: string; id: string }> = await manager.query(statement.sql, [...statement.values]);
    if (!handOff) return;
    const seqs = new Map(inserted.map((row) => [row.id.toLowerCase(), String(row.seq)]));
    recordForHandoff(
      queryRunner,
      rows.map(({ id, ...row }) => {
        const seq = seqs.get(id.toLowerCase());
        if (seq === undefined) throw new PersistenceUsageError(`outbox row for envelope ${id} was not inserted`);
        return { ...row, seq };
      }),
    );
  }
}
