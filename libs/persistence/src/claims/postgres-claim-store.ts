import { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { Claim, ClaimStore } from '@baton/bus';
import { CLAIMS_TABLE, ensureClaimsTableInTransaction } from './claims-table';

type Rows = Array<Record<string, unknown>>;
type Run = (sql: string, params: unknown[]) => Promise<Rows>;

const INSERT = `INSERT INTO ${CLAIMS_TABLE} (id, data, bytes, sha256, topic, message_type)
  VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`;

function insertParams(claim: Claim): unknown[] {
  return [claim.id, claim.data, claim.data.length, claim.sha256, claim.topic, claim.type];
}

/** Writes a claim inside the caller's transaction, so it commits (or rolls back) with the message referring to it. */
export async function writeClaim(manager: EntityManager, claim: Claim): Promise<void> {
  await manager.query(INSERT, insertParams(claim));
}

/** Retention: deletes claims created before `olderThan`; returns how many went. */
export async function pruneClaims(run: { query: (sql: string, params: unknown[]) => Promise<unknown> }, olderThan: Date): Promise<number> {
  const rows = (await run.query(
    `WITH pruned AS (DELETE FROM ${CLAIMS_TABLE} WHERE created_at < $1 RETURNING 1) SELECT count(*)::int AS count FROM pruned`,
    [olderThan],
  )) as Array<{ count: number }>;
  return rows[0]?.count ?? 0;
}

/**
 * The bus's ClaimStore on Postgres (table baton_claims.claims). Services with a
 * DataSource share its pool; the stateless agent-runner connects by URL.
 */
export class PostgresClaimStore implements ClaimStore {
  readonly kind = 'postgres' as const;

  private constructor(
    private readonly run: Run,
    private readonly onClose: () => Promise<void>,
  ) {}

  /** On a service's DataSource; its migrations (SHARED_MIGRATIONS) created the table. */
  static forDataSource(dataSource: DataSource): PostgresClaimStore {
    return new PostgresClaimStore(
      (sql, params) => dataSource.query(sql, params),
      () => Promise.resolve(),
    );
  }

  /** Its own small pool; ensures the table exists, so a service without migrations can use it. */
  static async connect(url: string, applicationName: string, poolSize = 4): Promise<PostgresClaimStore> {
    const pool = new Pool({ connectionString: url, application_name: applicationName, max: poolSize, connectionTimeoutMillis: 10_000 });
    // An idle client dying must not crash the process; the next query gets a new one.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await ensureClaimsTableInTransaction((sql, params) => client.query(sql, params));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresClaimStore(
      async (sql, params) => (await pool.query(sql, params)).rows as Rows,
      () => pool.end(),
    );
  }

  async put(claim: Claim): Promise<void> {
    await this.run(INSERT, insertParams(claim));
  }

  async get(id: string): Promise<Buffer | undefined> {
    const rows = await this.run(`SELECT data FROM ${CLAIMS_TABLE} WHERE id = $1`, [id]);
    const data = rows[0]?.['data'];
    return Buffer.isBuffer(data) ? data : undefined;
  }

  prune(olderThan: Date): Promise<number> {
    return pruneClaims({ query: (sql, params) => this.run(sql, params) }, olderThan);
  }

  private closing: Promise<void> | undefined;

  /** Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.onClose();
    return this.closing;
  }
}
