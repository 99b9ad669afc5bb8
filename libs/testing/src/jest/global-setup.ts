import { infraToEnv } from '../infra/test-infra';
import { provision, type Provisioned } from '../infra/provision';

/** Shared with globalTeardown, which jest runs in this same process. */
export const PROVISIONED_KEY = '__batonProvisioned';

/**
 * Provisions Kafka, Postgres and Neo4j once per jest run and exports their URLs; jest
 * workers are forked after this and inherit process.env.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const provisioned = await provision();
  Object.assign(process.env, infraToEnv(provisioned.infra));
  (globalThis as Record<string, unknown>)[PROVISIONED_KEY] = provisioned satisfies Provisioned;
  process.stderr.write(
    `\n[baton] infrastructure (${provisioned.mode}) ready in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (provisioned.startedNative.length > 0 ? `; started for this run: ${provisioned.startedNative.join(', ')}` : '') +
      '\n',
  );
}
