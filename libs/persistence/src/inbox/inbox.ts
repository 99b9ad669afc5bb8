import type { DataSource, EntityManager } from 'typeorm';
import type { EnvelopeHeader } from '@baton/contracts';
import { qualifiedName } from '../data-source/identifiers';
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
    const table = qualifiedName(schemaOf(manager.connection), 'inbox_messages');
    const rows: Array<{ envelope_id: string }> = await manager.query(
      `INSERT INTO ${table} (consumer, envelope_id) SELECT $1, id FROM unnest($2::uuid[]) AS id
       ON CONFLICT (consumer, envelope_id) DO NOTHING RETURNING envelope_id`,
      [consumer, [...new Set(envelopeIds)]],
    );
    // Postgres returns uuids in canonical lower case; answer in the caller's spelling.
    const fresh = new Set(rows.map((row) => row.envelope_id.toLowerCase()));
    return new Set(envelopeIds.filter((id) => fresh.has(id.toLowerCase())));
  }
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
