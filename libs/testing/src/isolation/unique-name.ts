import { randomBytes } from 'node:crypto';

/**
 * A name no other test (or parallel worker, or earlier run) uses: `uniqueName('t-')` gives
 * `t-k3x9q2ab` for topic prefixes, `uniqueName('t_')` gives `t_k3x9q2ab` for Postgres
 * schemas. Lowercase alphanumerics only, so it is valid in topics, schemas and labels.
 */
export function uniqueName(prefix: string, length = 10): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let suffix = '';
  for (const b of bytes) suffix += alphabet[b % alphabet.length];
  return `${prefix}${suffix}`;
}
