import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Component } from './health';
import { cmdlineOf, isAlive } from './processes';

/** Folder layout of the native infrastructure, all under one ignored state folder. */
export interface NativeLayout {
  root: string;
  cache: string;
  m2: string;
  logs: string;
  run: string;
}

export function nativeLayout(root: string): NativeLayout {
  return {
    root,
    cache: join(root, 'cache'),
    m2: join(root, 'cache', 'm2'),
    logs: join(root, 'logs'),
    run: join(root, 'run'),
  };
}

/** What `up` remembers about a component so `status`/`down` and the next `up` can find it. */
export interface RunRecord {
  pid: number;
  port: number;
  /** Kafka only: the KRaft controller listener. */
  controllerPort?: number;
  startedAt: string;
}

function runFile(layout: NativeLayout, component: Component): string {
  return join(layout.run, `${component}.json`);
}

export function readRunRecord(layout: NativeLayout, component: Component): RunRecord | undefined {
  const file = runFile(layout, component);
  if (!existsSync(file)) return undefined;
  try {
    const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof raw !== 'object' || raw === null) return undefined;
    const rec = raw as Record<string, unknown>;
    if (typeof rec['pid'] !== 'number' || typeof rec['port'] !== 'number') return undefined;
    return {
      pid: rec['pid'],
      port: rec['port'],
      controllerPort: typeof rec['controllerPort'] === 'number' ? rec['controllerPort'] : undefined,
      startedAt: typeof rec['startedAt'] === 'string' ? rec['startedAt'] : '',
    };
  } catch {
    // A torn or hand-edited file is treated as absent; the process scan still finds the server.
    return undefined;
  }
}

export function writeRunRecord(layout: NativeLayout, component: Component, record: RunRecord): void {
  mkdirSync(layout.run, { recursive: true });
  writeFileSync(runFile(layout, component), `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * Live processes whose command line contains the marker (a path inside the state
 * folder). Finds our servers even when a pid file is missing or stale, so `down`
 * never leaves one behind and `up` never starts a second one on the same store.
 */
export function findProcesses(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmd = cmdlineOf(pid);
    if (cmd !== undefined && cmd.includes(marker) && isAlive(pid)) pids.push(pid);
  }
  return pids;
}
