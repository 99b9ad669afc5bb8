import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { INFRA_ENV_KEYS, type TestInfra } from './test-infra';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const CLI = ['tools/run-ts.cjs', 'tools/infra/cli.ts'];

export type ProvisionMode = 'env' | 'docker' | 'native';

/** What a test run started, so its teardown stops exactly that and nothing else. */
export interface Provisioned {
  mode: ProvisionMode;
  infra: TestInfra;
  /** native: components `infra up` started for this run (for the log; teardown goes by lease). */
  startedNative: string[];
  /** docker: stop callbacks of the containers started for this run. */
  stopContainers: Array<() => Promise<void>>;
}

function envInfra(env: NodeJS.ProcessEnv): TestInfra | undefined {
  const present = INFRA_ENV_KEYS.filter((k) => (env[k] ?? '').trim() !== '');
  if (present.length === 0) return undefined;
  if (present.length < INFRA_ENV_KEYS.length) {
    throw new Error(`integration setup: set all of ${INFRA_ENV_KEYS.join(', ')} or none (have ${present.join(', ')})`);
  }
  return {
    kafka: { brokers: (env['KAFKA_BROKERS'] as string).split(',').map((b) => b.trim()) },
    postgres: { url: env['DATABASE_URL'] as string },
    neo4j: { uri: env['NEO4J_URI'] as string, user: env['NEO4J_USER'] || 'neo4j', password: env['NEO4J_PASSWORD'] ?? '' },
  };
}

function dockerEngineAnswers(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

/** Same order as `infra:up`: env URLs, then a Docker engine (testcontainers), then native. */
export async function provision(env: NodeJS.ProcessEnv = process.env): Promise<Provisioned> {
  const fromEnv = envInfra(env);
  if (fromEnv !== undefined) return { mode: 'env', infra: fromEnv, startedNative: [], stopContainers: [] };
  const forced = env['BATON_INFRA'];
  if (forced !== 'native' && dockerEngineAnswers()) return provisionContainers();
  return provisionNative(env);
}

/** Runs `infra up --json` as a child: the same provisioning code as `npm run infra:up`. */
async function provisionNative(env: NodeJS.ProcessEnv): Promise<Provisioned> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-infra-'));
  const startedFile = join(dir, 'started.json');
  try {
    const stdout = await new Promise<string>((resolveOut, reject) => {
      // The lease lets overlapping jest runs share one stack: see tools/infra/leases.ts.
      const child = spawn(process.execPath, [...CLI, 'up', '--json', '--started-file', startedFile, '--lease', String(process.pid)], {
        cwd: REPO_ROOT,
        env: { ...env, BATON_INFRA: 'native' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        process.stderr.write(chunk);
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code === 0) resolveOut(out);
        else reject(new Error(`integration setup: \`infra up\` failed (exit ${code}):\n${err.trim()}`));
      });
    });
    const last = stdout.trim().split('\n').pop() ?? '';
    const parsed = JSON.parse(last) as TestInfra & { mode: string };
    const started = JSON.parse(readFileSync(startedFile, 'utf8')) as string[];
    return {
      mode: 'native',
      infra: { kafka: parsed.kafka, postgres: parsed.postgres, neo4j: parsed.neo4j },
      startedNative: started,
      stopContainers: [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function freeHostPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Throwaway containers for this run only (same images as docker-compose.yml). */
async function provisionContainers(): Promise<Provisioned> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const neo4jPassword = 'baton-neo4j';
  // Kafka advertises the address clients must dial, so its host port is fixed up front
  // and identical inside the container.
  const kafkaPort = await freeHostPort();
  const [kafka, postgres, neo4jContainer] = await Promise.all([
    new GenericContainer('apache/kafka:3.9.1')
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${kafkaPort},CONTROLLER://0.0.0.0:29093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:29093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '10',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_NUM_PARTITIONS: '3',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withExposedPorts({ container: kafkaPort, host: kafkaPort })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .withStartupTimeout(120_000)
      .start(),
    new GenericContainer('postgres:16')
      .withEnvironment({ POSTGRES_DB: 'baton', POSTGRES_USER: 'baton', POSTGRES_PASSWORD: 'baton' })
      .withCommand(['postgres', '-c', 'max_connections=300'])
      .withExposedPorts(5432)
      // The entrypoint restarts the server once after init; the second "ready" is the real one.
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .withStartupTimeout(120_000)
      .start(),
    new GenericContainer('neo4j:5.26-community')
      .withEnvironment({
        NEO4J_AUTH: `neo4j/${neo4jPassword}`,
        NEO4J_server_memory_heap_max__size: '1536m',
        NEO4J_server_memory_pagecache_size: '2g',
      })
      .withExposedPorts(7687)
      .withWaitStrategy(Wait.forLogMessage(/Bolt enabled on/))
      .withStartupTimeout(180_000)
      .start(),
  ]);
  const host = postgres.getHost();
  return {
    mode: 'docker',
    infra: {
      kafka: { brokers: [`127.0.0.1:${kafkaPort}`] },
      postgres: { url: `postgres://baton:baton@${host}:${postgres.getMappedPort(5432)}/baton` },
      neo4j: { uri: `bolt://${neo4jContainer.getHost()}:${neo4jContainer.getMappedPort(7687)}`, user: 'neo4j', password: neo4jPassword },
    },
    startedNative: [],
    stopContainers: [kafka, postgres, neo4jContainer].map((c) => async () => {
      await c.stop();
    }),
  };
}

/**
 * Stops what test runs started once no other jest run still uses it; infrastructure that
 * was up before (a developer's `infra:up`) is never stopped.
 */
export async function release(provisioned: Provisioned): Promise<void> {
  await Promise.all(provisioned.stopContainers.map((stop) => stop()));
  if (provisioned.mode === 'native') {
    const result = spawnSync(process.execPath, [...CLI, 'down', '--release', String(process.pid)], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new Error(`integration teardown: \`infra down\` failed (exit ${result.status}):\n${result.stderr}`);
    }
    process.stderr.write(result.stderr);
  }
}
