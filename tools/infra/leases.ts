import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { COMPONENTS, type Component } from './health';
import type { NativeLayout } from './native-context';
import { isAlive } from './processes';

/**
 * Test runs that share the native infrastructure. Several jest runs (developers
 * working side by side, `npm test` next to a focused run) may overlap: the servers one
 * run started must outlive it while another still uses them, and be stopped by whichever
 * run finishes last. `started` is what test runs started; a plain `infra:up` adopts
 * everything, so a developer's own stack is never stopped by a test teardown.
 */
export interface LeaseState {
  holders: number[];
  started: Component[];
}

function leaseFile(layout: NativeLayout): string {
  return join(layout.run, 'test-leases.json');
}

export function readLeases(layout: NativeLayout): LeaseState {
  const file = leaseFile(layout);
  if (!existsSync(file)) return { holders: [], started: [] };
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<LeaseState>;
    const holders = Array.isArray(raw.holders) ? raw.holders.filter((h): h is number => Number.isInteger(h)) : [];
    const started = Array.isArray(raw.started) ? COMPONENTS.filter((c) => raw.started?.includes(c)) : [];
    return { holders, started };
  } catch {
    return { holders: [], started: [] };
  }
}

export function writeLeases(layout: NativeLayout, state: LeaseState): void {
  writeFileSync(leaseFile(layout), `${JSON.stringify(state, null, 2)}\n`);
}

/** Holders whose process is gone (a crashed or killed jest) no longer count. */
export function liveHolders(state: LeaseState): number[] {
  return state.holders.filter((pid) => isAlive(pid));
}

/** After `up`: a test run (lease) adds itself and what it started; a plain `up` adopts all. */
export function afterUp(state: LeaseState, lease: number | undefined, started: readonly Component[]): LeaseState {
  if (lease === undefined) return { holders: liveHolders(state), started: [] };
  const holders = [...new Set([...liveHolders(state), lease])];
  return { holders, started: COMPONENTS.filter((c) => state.started.includes(c) || started.includes(c)) };
}

/** On release: which components to stop now (only when no other run holds a lease). */
export function release(state: LeaseState, lease: number): { next: LeaseState; stop: Component[]; others: number[] } {
  const others = liveHolders(state).filter((pid) => pid !== lease);
  if (others.length > 0) return { next: { holders: others, started: state.started }, stop: [], others };
  return { next: { holders: [], started: [] }, stop: state.started, others };
}
