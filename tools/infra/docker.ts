import { join } from 'node:path';

import { REPO_ROOT, type InfraEndpoints } from './endpoints';
import type { Component } from './health';
import { run, which } from './processes';

// Host ports published by docker-compose.yml; offset from the defaults so a locally
// installed Postgres/Neo4j/Kafka does not collide with the compose stack.
export const COMPOSE_PORTS = { kafka: 19092, postgres: 15432, neo4j: 17687 } as const;
export const COMPOSE_NEO4J_PASSWORD = 'baton-neo4j';
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
const SERVICES: Record<Component, string> = { kafka: 'kafka', postgres: 'postgres', neo4j: 'neo4j' };

/** True only when a Docker engine answers, not merely when the client is installed. */
export function dockerEngineAvailable(): boolean {
  if (which('docker') === undefined) return false;
  return run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 }).status === 0;
}

let composeCommand: string[] | null | undefined;

/** `docker compose` (plugin) or the standalone `docker-compose`; null when neither exists. */
function findCompose(): string[] | null {
  if (composeCommand !== undefined) return composeCommand;
  if (run('docker', ['compose', 'version'], { timeout: 10_000 }).status === 0) composeCommand = ['docker', 'compose'];
  else if (which('docker-compose') !== undefined) composeCommand = ['docker-compose'];
  else composeCommand = null;
  return composeCommand;
}

/** The Docker path is usable: an engine answers and a compose implementation exists. */
export function dockerAvailable(log?: (msg: string) => void): boolean {
  if (!dockerEngineAvailable()) return false;
  if (findCompose() === null) {
    log?.('infra: a Docker engine answers but neither `docker compose` nor docker-compose is installed; using the native path');
    return false;
  }
  return true;
}

export function composeEndpoints(): InfraEndpoints {
  return {
    mode: 'docker',
    kafka: { brokers: [`127.0.0.1:${COMPOSE_PORTS.kafka}`] },
    postgres: { url: `postgres://baton:baton@127.0.0.1:${COMPOSE_PORTS.postgres}/baton` },
    neo4j: { uri: `bolt://127.0.0.1:${COMPOSE_PORTS.neo4j}`, user: 'neo4j', password: COMPOSE_NEO4J_PASSWORD },
  };
}

function compose(args: string[], timeoutMs: number): { status: number | null; output: string } {
  const command = findCompose();
  if (command === null) return { status: null, output: 'docker compose is not installed' };
  const [bin, ...prefix] = command as [string, ...string[]];
  const result = run(bin, [...prefix, '-f', COMPOSE_FILE, ...args], { cwd: REPO_ROOT, timeout: timeoutMs });
  return { status: result.status, output: (result.stdout + result.stderr).trim() };
}

export function composeRunningServices(): Component[] {
  const result = compose(['ps', '--status', 'running', '--services'], 30_000);
  if (result.status !== 0) return [];
  const running = new Set(result.output.split('\n').map((s) => s.trim()));
  return (Object.keys(SERVICES) as Component[]).filter((c) => running.has(SERVICES[c]));
}

/** `up -d --wait` returns once every healthcheck in the compose file passes. */
export function composeUp(): void {
  const result = compose(['up', '-d', '--wait'], 600_000);
  if (result.status !== 0) {
    throw new Error(`docker compose up failed (see \`docker compose -f ${COMPOSE_FILE} logs\`):\n${result.output.slice(-3000)}`);
  }
}

export function composeDown(only?: readonly Component[]): void {
  const args = only === undefined ? ['down'] : ['stop', ...only.map((c) => SERVICES[c])];
  const result = compose(args, 120_000);
  if (result.status !== 0) throw new Error(`docker compose ${args[0]} failed:\n${result.output.slice(-3000)}`);
}
