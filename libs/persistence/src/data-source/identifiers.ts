import { createHash } from 'node:crypto';
import { InvalidIdentifierError } from '../errors';

/** Postgres truncates identifiers beyond NAMEDATALEN - 1 bytes; we refuse instead. */
export const MAX_IDENTIFIER_BYTES = 63;

export function assertIdentifier(name: string, what: string): string {
  if (name.length === 0) throw new InvalidIdentifierError(`${what} must not be empty`);
  if (name.includes('\0')) throw new InvalidIdentifierError(`${what} must not contain NUL`);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new InvalidIdentifierError(`${what} "${name}" is ${bytes} bytes; Postgres allows ${MAX_IDENTIFIER_BYTES}`);
  }
  return name;
}

/** Double-quotes an identifier so any schema name (mixed case, dashes) is used verbatim. */
export function quoteIdentifier(name: string): string {
  assertIdentifier(name, 'identifier');
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualifiedName(schema: string, table: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

/**
 * The LISTEN/NOTIFY channel on which an enqueue wakes the relay of `schema`.
 * Channel names share the identifier length limit, so long schemas get a hash.
 */
export function outboxChannel(schema: string): string {
  assertIdentifier(schema, 'schema');
  const plain = `${schema}_outbox`;
  if (Buffer.byteLength(plain, 'utf8') <= MAX_IDENTIFIER_BYTES) return plain;
  return `outbox_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

export type AdvisoryLockPurpose = 'migrations' | 'outbox-relay';

/**
 * A stable signed 64-bit key for pg_advisory_lock(bigint), one per (purpose, schema),
 * returned as a decimal string because it does not fit a JS number.
 */
export function advisoryLockKey(purpose: AdvisoryLockPurpose, schema: string): string {
  const digest = createHash('sha256').update(`baton:${purpose}:${schema}`).digest();
  return digest.readBigInt64BE(0).toString();
}
