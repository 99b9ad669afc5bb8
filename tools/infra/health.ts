// The infra tool checks the broker with the raw client: it must work before (and
// independently of) @baton/bus, which itself needs a running broker to be tested.
// eslint-disable-next-line no-restricted-imports
import { Kafka, logLevel } from 'kafkajs';
import neo4j from 'neo4j-driver';
import { Client } from 'pg';

import type { InfraEndpoints } from './endpoints';
import { sleep } from './processes';

export type Component = 'kafka' | 'postgres' | 'neo4j';
export const COMPONENTS: readonly Component[] = ['kafka', 'postgres', 'neo4j'];

const CHECK_TIMEOUT_MS = 5_000;

function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Broker metadata answers and lists at least one broker: the broker accepts clients. */
export async function checkKafka(brokers: string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: 'baton-infra-health',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 4_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await withTimeout('kafka', admin.connect(), CHECK_TIMEOUT_MS);
    const cluster = await withTimeout('kafka', admin.describeCluster(), CHECK_TIMEOUT_MS);
    if (cluster.brokers.length === 0) throw new Error('kafka: cluster reports no brokers');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates __consumer_offsets up front (a group-coordinator lookup does that), so the first
 * consumer group of a test or service does not wait for it on a fresh broker.
 */
export async function warmUpKafka(brokers: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'baton-infra-warmup', brokers, logLevel: logLevel.NOTHING, retry: { retries: 12 } });
  const admin = kafka.admin();
  try {
    await withTimeout('kafka warm-up', admin.connect(), CHECK_TIMEOUT_MS);
    await withTimeout('kafka warm-up', admin.describeGroups(['baton-infra-warmup']), 60_000);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function checkPostgres(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await withTimeout('postgres', client.connect(), CHECK_TIMEOUT_MS);
    await withTimeout('postgres', client.query('select 1'), CHECK_TIMEOUT_MS);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function checkNeo4j(uri: string, user: string, password: string): Promise<void> {
  const driver = neo4j.driver(uri, neo4j.auth.basic(user, password), {
    connectionTimeout: 3_000,
    maxConnectionPoolSize: 1,
    logging: { level: 'error', logger: () => undefined },
  });
  try {
    await withTimeout('neo4j', driver.executeQuery('RETURN 1 AS ok'), CHECK_TIMEOUT_MS);
  } finally {
    await driver.close().catch(() => undefined);
  }
}

export function checkComponent(component: Component, endpoints: InfraEndpoints): Promise<void> {
  switch (component) {
    case 'kafka':
      return checkKafka(endpoints.kafka.brokers);
    case 'postgres':
      return checkPostgres(endpoints.postgres.url);
    case 'neo4j':
      return checkNeo4j(endpoints.neo4j.uri, endpoints.neo4j.user, endpoints.neo4j.password);
  }
}

export async function isHealthy(check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls a check until it passes. Gives up early when `stillRunning` says the process
 * died, so a crash is reported at once instead of after the whole timeout.
 */
export async function waitHealthy(
  component: Component,
  check: () => Promise<void>,
  timeoutMs: number,
  stillRunning: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      lastError = err;
    }
    if (!stillRunning()) throw new Error(`${component}: process exited before it became healthy`);
    if (Date.now() > deadline) {
      throw new Error(`${component}: not healthy after ${Math.round(timeoutMs / 1000)} s (${(lastError as Error)?.message})`);
    }
    await sleep(500);
  }
}
