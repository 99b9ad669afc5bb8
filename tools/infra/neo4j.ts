import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from './endpoints';
import { ensureMavenLib, requireJavac, type Jdk } from './jvm';
import { findProcesses, type NativeLayout } from './native-context';
import { runOrThrow, spawnDetached } from './processes';

export const NEO4J_VERSION = '5.26.30';
export const NEO4J_USER = 'neo4j';
export const DEFAULT_NEO4J_PASSWORD = 'baton-neo4j';

export interface Neo4jPaths {
  home: string;
  classes: string;
  lib: string;
  pom: string;
  source: string;
  log: string;
}

export function neo4jPaths(layout: NativeLayout): Neo4jPaths {
  return {
    home: join(layout.root, 'neo4j'),
    classes: join(layout.cache, 'neo4j-launcher'),
    lib: join(layout.cache, 'neo4j-lib'),
    pom: join(REPO_ROOT, 'tools', 'infra', 'neo4j', 'pom.xml'),
    source: join(REPO_ROOT, 'tools', 'infra', 'neo4j', 'Neo4jLauncher.java'),
    log: join(layout.logs, 'neo4j.log'),
  };
}

export function neo4jPassword(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['BATON_NEO4J_PASSWORD'];
  if (configured !== undefined && configured !== '') {
    if (configured.length < 8) throw new Error('neo4j: BATON_NEO4J_PASSWORD must have at least 8 characters');
    return configured;
  }
  return DEFAULT_NEO4J_PASSWORD;
}

export function neo4jMarker(layout: NativeLayout): string {
  return `Neo4jLauncher ${neo4jPaths(layout).home}`;
}

export function findNeo4jPid(layout: NativeLayout): number | undefined {
  return findProcesses(neo4jMarker(layout))[0];
}

/** Fetches jars (first run only) and compiles the launcher when its source changed. */
export function prepareNeo4j(layout: NativeLayout, jdk: Jdk): { downloaded: boolean } {
  const p = neo4jPaths(layout);
  const downloaded = ensureMavenLib('neo4j', p.pom, p.lib, layout.m2, jdk);
  const hash = createHash('sha256').update(readFileSync(p.source)).update(p.lib).update('release-17').digest('hex');
  const marker = join(p.classes, '.source-hash');
  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== hash) {
    rmSync(p.classes, { recursive: true, force: true });
    mkdirSync(p.classes, { recursive: true });
    // --release 17: the class must also load when a later `up` runs on an older JDK.
    runOrThrow('neo4j: compiling Neo4jLauncher.java', requireJavac(jdk), [
      '--release',
      '17',
      '-d',
      p.classes,
      '-cp',
      `${p.lib}/*`,
      p.source,
    ]);
    writeFileSync(marker, `${hash}\n`);
  }
  mkdirSync(p.home, { recursive: true });
  mkdirSync(layout.logs, { recursive: true });
  return { downloaded };
}

/**
 * Memory of the native Neo4j. The page cache holds the store the way Neo4j's sizing guidance asks (the store and its
 * indexes in memory): with 256 MB against the ≈2 GB that a bench:context graph of a million items takes, its writes
 * evicted and faulted pages all the time. The whole machine has 24 GiB; Kafka, Postgres, the services and jest's
 * workers use a few.
 */
const NEO4J_HEAP = { initial: '512m', max: '1536m' };
const DEFAULT_NEO4J_PAGECACHE_MB = 2_048;

/** `BATON_NEO4J_PAGECACHE_MB` sizes the page cache on a smaller machine; it applies when Neo4j (re)starts. */
export function neo4jPagecacheMb(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env['BATON_NEO4J_PAGECACHE_MB'];
  if (configured === undefined || configured === '') return DEFAULT_NEO4J_PAGECACHE_MB;
  const mb = Number(configured);
  if (!Number.isInteger(mb) || mb < 32) {
    throw new Error(`neo4j: BATON_NEO4J_PAGECACHE_MB must be a whole number of MB, at least 32; got ${configured}`);
  }
  return mb;
}

export function startNeo4j(layout: NativeLayout, jdk: Jdk, port: number, password: string, pagecacheMb: number): number {
  const p = neo4jPaths(layout);
  return spawnDetached({
    command: jdk.java,
    args: [
      `-Xms${NEO4J_HEAP.initial}`,
      `-Xmx${NEO4J_HEAP.max}`,
      '-XX:+UseG1GC',
      '-XX:+ExitOnOutOfMemoryError',
      // Neo4j's own launcher passes these: its page cache and Netty use NIO internals.
      '--add-opens=java.base/java.nio=ALL-UNNAMED',
      '--add-opens=java.base/java.io=ALL-UNNAMED',
      '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
      '-Dio.netty.tryReflectionSetAccessible=true',
      '-Djdk.nio.maxCachedBufferSize=1024',
      '-cp',
      `${p.classes}:${p.lib}/*`,
      'Neo4jLauncher',
      p.home,
      String(port),
    ],
    env: {
      ...process.env,
      NEO4J_LAUNCHER_PASSWORD: password,
      NEO4J_LAUNCHER_PAGECACHE_MB: String(pagecacheMb),
    },
    logFile: p.log,
    cwd: p.home,
  });
}
