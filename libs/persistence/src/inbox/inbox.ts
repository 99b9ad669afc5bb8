import type { DataSource, EntityManager } from 'typeorm';
import type { EnvelopeHeader } from '@baton/contracts';
import { qualifiedName } from '../data-source/identifiers';
import { combineStatements, type SqlStatement } from '../data-source/sql-statement';
import { schemaOf } from '../data-source/postgres-schema';
import { PersistenceUsageError } from '../errors';

export type HandleOnceResult<T> = { handled: true; result: T } | { handled: false };

/**
 * Runs a consumer's effect at most once per envelope id, in the transaction
 * that records the envelope as handled.
 */
export class Inbox {
  /**
   * One transaction: claim (consumer, envelope id), then run `effect` with the
   * same manager, so its writes and any Outbox.enqueue commit with the claim
   * or roll back with it (a throwing effect leaves the envelope unhandled, so a
   * redelivery retries it). A concurrent duplicate blocks on the primary key
   * until the first commits, then finds the row and skips the effect.
   */
  async handleOnce<T>(
    dataSource: DataSource,
    consumer: string,
    envelope: Pick<EnvelopeHeader, 'id'>,
    effect: (manager: EntityManager) => Promise<T>,
  ): Promise<HandleOnceResult<T>> {
    if (consumer.length === 0) throw new PersistenceUsageError('Inbox consumer name must not be empty');
    const table = qualifiedName(schemaOf(dataSource), 'inbox_messages');
    return dataSource.transaction(async (manager): Promise<HandleOnceResult<T>> => {
      const claimed: unknown[] = await manager.query(
        `INSERT INTO ${table} (consumer, envelope_id) VALUES ($1, $2)
         ON CONFLICT (consumer, envelope_id) DO NOTHING RETURNING envelope_id`,
        [consumer, envelope.id],
      );
      if (claimed.length === 0) return { handled: false };
      return { handled: true, result: await effect(manager) };
    });
  }
  /**
   * Claims many envelopes for `consumer` inside the caller's transaction and
   * returns the ids not handled before: a batch consumer runs its effects for
   * those only, and they commit (or roll back) with the claims.
   */
  async claimMany(manager: EntityManager, consumer: string, envelopeIds: readonly string[]): Promise<Set<string>> {
    if (consumer.length === 0) throw new PersistenceUsageError('Inbox consumer name must not be empty');
    if (manager.queryRunner === undefined || !manager.queryRunner.isTransactionActive) {
      throw new PersistenceUsageError('Inbox.claimMany must be called with the EntityManager of an open transaction');
    }
    if (envelopeIds.length === 0) return new Set();
    const { sql, values } = claimStatement(manager, consumer, envelopeIds);
    const rows: Array<{ envelope_id: string }> = await manager.query(sql, [...values]);
    return inCallersSpelling(
      envelopeIds,
      rows.map((row) => row.envelope_id),
    );
  }

  /**
   * claimMany and the caller's first read (`read`, typically a SELECT … FOR UPDATE of what the envelopes are about)
   * in one statement, one round trip fewer per batch. The read runs on the statement's snapshot and cannot see the
   * claims; when it waits for a row lock, what it returns is the locked rows' latest version, but anything else it
   * reads is as of before the wait, so read other state in a later statement. Rows come back as `read` returns
   * them; they do not depend on which envelopes were fresh.
   */
  async claimManyAndRead<R>(
    manager: EntityManager,
    consumer: string,
    envelopeIds: readonly string[],
    read: SqlStatement,
  ): Promise<{ fresh: Set<string>; rows: R[] }> {
    if (consumer.length === 0) throw new PersistenceUsageError('Inbox consumer name must not be empty');
    if (manager.queryRunner === undefined || !manager.queryRunner.isTransactionActive) {
      throw new PersistenceUsageError('Inbox.claimManyAndRead must be called with the EntityManager of an open transaction');
    }
    if (envelopeIds.length === 0) return { fresh: new Set(), rows: [] };
    // One row even when `read` finds none (the LEFT JOIN), so the claimed ids always come back.
    const { sql, values } = combineStatements([claimStatement(manager, consumer, envelopeIds)], ([claimed]) => ({
      sql: `SELECT (SELECT coalesce(array_agg(envelope_id::text), '{}') FROM ${claimed}) AS baton_inbox_fresh, r.*
            FROM (SELECT 1) AS baton_one LEFT JOIN LATERAL (SELECT true AS baton_inbox_row, q.* FROM (${read.sql}) AS q) AS r ON true`,
      values: read.values,
    }));
    const result: Array<Record<string, unknown>> = await manager.query(sql, [...values]);
    const fresh = inCallersSpelling(envelopeIds, (result[0]?.['baton_inbox_fresh'] as string[] | undefined) ?? []);
    const rows = result
      .filter((row) => row['baton_inbox_row'] === true)
      .map(({ baton_inbox_fresh: _fresh, baton_inbox_row: _row, ...row }) => row as R);
    return { fresh, rows };
  }
}

function claimStatement(manager: EntityManager, consumer: string, envelopeIds: readonly string[]): SqlStatement {
  const table = qualifiedName(schemaOf(manager.connection), 'inbox_messages');
  return {
    sql: `INSERT INTO ${table} (consumer, envelope_id) SELECT $1, id FROM unnest($2::uuid[]) AS id
          ON CONFLICT (consumer, envelope_id) DO NOTHING RETURNING envelope_id`,
    values: [consumer, [...new Set(envelopeIds)]],
  };
}

/** Postgres returns uuids in canonical lower case; the answer is in the caller's spelling. */
function inCallersSpelling(envelopeIds: readonly string[], claimed: readonly string[]): Set<string> {
  const fresh = new Set(claimed.map((id) => id.toLowerCase()));
  return new Set(envelopeIds.filter((id) => fresh.has(id.toLowerCase())));
}

/** Retention: forgets envelopes handled before `olderThan`; returns how many rows went. */
export async function pruneInbox(dataSource: DataSource, olderThan: Date): Promise<number> {
  const table = qualifiedName(schemaOf(dataSource), 'inbox_messages');
  const rows: { count: number }[] = await dataSource.query(
    `WITH pruned AS (DELETE FROM ${table} WHERE handled_at < $1 RETURNING 1) SELECT count(*)::int AS count FROM pruned`,
    [olderThan],
  );
  return rows[0]?.count ?? 0;
}
