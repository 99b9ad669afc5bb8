import { release, type Provisioned } from '../infra/provision';
import { PROVISIONED_KEY } from './global-setup';

/** Stops only what globalSetup started; infrastructure that was already up keeps running. */
export default async function globalTeardown(): Promise<void> {
  const provisioned = (globalThis as Record<string, unknown>)[PROVISIONED_KEY] as Provisioned | undefined;
  if (provisioned === undefined) return;
  await release(provisioned);
}
