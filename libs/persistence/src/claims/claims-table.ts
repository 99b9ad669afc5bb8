import { advisoryLockKey, qualifiedName, quoteIdentifier } from '../data-source/identifiers';

/**
 * One schema for every service's claims, not one per service: a claim is
 * written by the publisher and read by whoever consumes the message (the
 * router's task.assigned by a runner, a runner's task.completed by the router),
 * and a reference names only the claim id, so readers must find every claim in
 * one known place.
 */
export const CLAIMS_SCHEMA = 'baton_claims';
export const CLAIMS_TABLE = qualifiedName(CLAIMS_SCHEMA, 'claims');

type Run = (sql: string, params?: unknown[]) => Promise<unknown>;

/**
 * Idempotent DDL, run by the shared migration of every service schema and by
 * services without migrations (the stateless agent-runner). It must run inside
 * a transaction: the transaction-scoped lock keeps two services starting
 * together from racing on CREATE (IF NOT EXISTS is not safe concurrently).
 */
export async function ensureClaimsTableInTransaction(run: Run): Promise<void> {
  await run('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryLockKey('migrations', CLAIMS_SCHEMA)]);
  await run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(CLAIMS_SCHEMA)}`);
  await run(`
    CREATE TABLE IF NOT EXISTS ${CLAIMS_TABLE} (
      id           uuid        PRIMARY KEY,
      data         bytea       NOT NULL,
      bytes        integer     NOT NULL,
      sha256       text        NOT NULL,
      topic        text        NOT NULL,
      message_type text        NOT NULL,
      created_at   timestamptz NOT NULL DEFAULT now()
    )`);
  // Retention deletes by age.
  await run(`CREATE INDEX IF NOT EXISTS ${quoteIdentifier('claims_created_at_idx')} ON ${CLAIMS_TABLE} (created_at)`);
}
