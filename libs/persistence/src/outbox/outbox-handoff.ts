import type { DataSource, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { outboxChannel } from '../data-source/identifiers';
import { schemaOf } from '../data-source/postgres-schema';
import type { OutboxRecord } from './outbox-publisher';

/** An outbox row as enqueued: its seq and exactly the record the relay would read back. */
export interface CommittedOutboxRow extends OutboxRecord {
  seq: string;
  headers: Record<string, string>;
}

/**
 * The relay of this process for a DataSource, when it is the schema's
 * publisher: rows committed here are handed to it directly, so it publishes
 * them without being woken by NOTIFY and reading them back.
 */
export interface OutboxHandoffTarget {
  readonly acceptsHandoff: boolean;
  /** False when the relay cannot take them (stopped, lost the lock): they stay in the table for whoever publishes. */
  handOff(rows: readonly CommittedOutboxRow[]): boolean;
}

/** TypeORM's nesting level (1 = the transaction, 2+ = savepoints); public in behaviour, protected in its types. */
function depthOf(queryRunner: QueryRunner): number {
  return (queryRunner as unknown as { transactionDepth: number }).transactionDepth;
}

const targets = new WeakMap<DataSource, OutboxHandoffTarget>();

/** What a transaction enqueued for hand-off, by the transaction depth (savepoint) that enqueued it. */
const pending = new WeakMap<QueryRunner, Array<{ depth: number; rows: CommittedOutboxRow[] }>>();

export function registerHandoffTarget(dataSource: DataSource, target: OutboxHandoffTarget): void {
  targets.set(dataSource, target);
  if (!dataSource.subscribers.some((subscriber) => subscriber instanceof OutboxHandoffSubscriber)) {
    dataSource.subscribers.push(new OutboxHandoffSubscriber());
  }
}

export function unregisterHandoffTarget(dataSource: DataSource, target: OutboxHandoffTarget): void {
  if (targets.get(dataSource) === target) targets.delete(dataSource);
}

/**
 * Whether rows enqueued now on `queryRunner` will be handed to a local relay at
 * commit. The caller then leaves out the NOTIFY: the relay needs no wake-up
 * for its own process's rows.
 */
export function willHandOff(queryRunner: QueryRunner): boolean {
  return targets.get(queryRunner.connection)?.acceptsHandoff === true;
}

export function recordForHandoff(queryRunner: QueryRunner, rows: CommittedOutboxRow[]): void {
  const entries = pending.get(queryRunner) ?? [];
  entries.push({ depth: depthOf(queryRunner), rows });
  pending.set(queryRunner, entries);
}

/**
 * Hands a transaction's rows over once its top-level COMMIT succeeded; a
 * rollback (or a savepoint's) drops what it covered. A relay that refuses
 * (it lost the lock between enqueue and commit) gets a NOTIFY sent for the
 * rows instead, so whichever relay publishes now wakes for them.
 */
class OutboxHandoffSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    const entries = pending.get(queryRunner);
    if (!entries) return;
    if (queryRunner.isTransactionActive) {
      // A savepoint was released: what it enqueued now belongs to the enclosing level.
      for (const entry of entries) entry.depth = Math.min(entry.depth, depthOf(queryRunner));
      return;
    }
    pending.delete(queryRunner);
    const rows = entries.flatMap((entry) => entry.rows);
    const target = targets.get(queryRunner.connection);
    if (rows.length > 0 && (target === undefined || !target.handOff(rows))) notifyRelays(queryRunner.connection);
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    const entries = pending.get(queryRunner);
    if (!entries) return;
    const kept = queryRunner.isTransactionActive ? entries.filter((entry) => entry.depth <= depthOf(queryRunner)) : [];
    if (kept.length > 0) pending.set(queryRunner, kept);
    else pending.delete(queryRunner);
  }
}

function notifyRelays(dataSource: DataSource): void {
  // Best effort: without it the rows still go out at the publishing relay's next poll.
  dataSource.query(`SELECT pg_notify($1, '')`, [outboxChannel(schemaOf(dataSource))]).catch(() => undefined);
}
