// Bare kafkajs figures (no KafkaBus, no envelope validation): the floor that
// bench:bus and bench:workflow compare Baton's own overhead against.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
// The benchmark measures kafkajs itself, below the bus, so it imports it directly.
// eslint-disable-next-line no-restricted-imports
import { type Consumer, Kafka, logLevel } from 'kafkajs';

export interface BareKafkaOptions {
  brokers: string[];
  /** Measured sequential produce→consume round trips. */
  roundTrips?: number;
  /** Round trips run first and discarded (connections, metadata, JIT). */
  warmup?: number;
  /** Messages of the throughput phase; 0 skips it. */
  throughputMessages?: number;
  batchSize?: number;
  messageBytes?: number;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface ThroughputSummary {
  messages: number;
  produceSeconds: number;
  produceMsgPerSec: number;
  /** From the first send until the consumer has seen every message. */
  consumeSeconds: number;
  consumeMsgPerSec: number;
}

export interface BareKafkaResult {
  roundTrip: LatencySummary;
  throughput: ThroughputSummary | undefined;
}

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function summarise(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** KAFKA_BROKERS if set, else the brokers of `infra up` (reused when already running). */
export function resolveBrokers(): string[] {
  const fromEnv = process.env['KAFKA_BROKERS'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(',').map((broker) => broker.trim());
  const root = path.resolve(__dirname, '..', '..');
  const stdout = execFileSync(process.execPath, [path.join(root, 'tools/run-ts.cjs'), 'tools/infra/cli.ts', 'up', '--json'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lastLine = stdout.trim().split('\n').pop() ?? '';
  const endpoints = JSON.parse(lastLine) as { kafka: { brokers: string[] } };
  return endpoints.kafka.brokers;
}

/** Resolves at the consumer's first group join (a consumer that has not joined yet misses what is sent now). */
export function waitForJoin(consumer: Consumer): Promise<void> {
  return new Promise((resolve) => {
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
      remove();
      resolve();
    });
  });
}

export async function measureBareKafkaRoundTrip(options: BareKafkaOptions): Promise<BareKafkaResult> {
  const roundTrips = options.roundTrips ?? 2_000;
  const warmup = options.warmup ?? 200;
  const throughputMessages = options.throughputMessages ?? 50_000;
  const batchSize = options.batchSize ?? 500;
  const payload = Buffer.alloc(options.messageBytes ?? 100, 'x');

  const run = randomUUID().slice(0, 8);
  const latencyTopic = `bench.bus.latency.${run}`;
  const throughputTopic = `bench.bus.throughput.${run}`;
  const kafka = new Kafka({ clientId: `bench-${run}`, brokers: options.brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  // Same durability as KafkaBus: idempotent, acks=all, one request in flight.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  const consumer = kafka.consumer({ groupId: `bench-${run}`, allowAutoTopicCreation: false });

  await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
  try {
    await admin.createTopics({
      topics: [
        { topic: latencyTopic, numPartitions: 1, replicationFactor: 1 },
        { topic: throughputTopic, numPartitions: 6, replicationFactor: 1 },
      ],
      waitForLeaders: true,
    });

    let awaited: { seq: string; resolve: () => void } | undefined;
    let throughputSeen = 0;
    let allConsumed: (() => void) | undefined;
    await consumer.subscribe({ topics: [latencyTopic, throughputTopic], fromBeginning: true });
    const joined = waitForJoin(consumer);
    await consumer.run({
      partitionsConsumedConcurrently: 6,
      eachBatch: async ({ batch }) => {
        if (batch.topic === latencyTopic) {
          for (const message of batch.messages) {
            if (awaited !== undefined && message.key?.toString() === awaited.seq) awaited.resolve();
          }
          return;
        }
        throughputSeen += batch.messages.length;
        if (throughputSeen >= throughputMessages) allConsumed?.();
      },
    });
    await joined;

    const samples: number[] = [];
    for (let i = 0; i < warmup + roundTrips; i += 1) {
      const seq = String(i);
      const arrived = new Promise<void>((resolve) => {
        awaited = { seq, resolve };
      });
      const started = performance.now();
      await producer.send({ topic: latencyTopic, acks: -1, messages: [{ key: seq, value: payload }] });
      await arrived;
      if (i >= warmup) samples.push(performance.now() - started);
    }

    let throughput: ThroughputSummary | undefined;
    if (throughputMessages > 0) {
      const consumed = new Promise<void>((resolve) => {
        allConsumed = resolve;
      });
      const started = performance.now();
      for (let sent = 0; sent < throughputMessages; sent += batchSize) {
        const count = Math.min(batchSize, throughputMessages - sent);
        const messages = Array.from({ length: count }, (_, j) => ({ key: String(sent + j), value: payload }));
        await producer.send({ topic: throughputTopic, acks: -1, messages });
      }
      const produceSeconds = (performance.now() - started) / 1000;
      await consumed;
      const consumeSeconds = (performance.now() - started) / 1000;
      throughput = {
        messages: throughputMessages,
        produceSeconds,
        produceMsgPerSec: throughputMessages / produceSeconds,
        consumeSeconds,
        consumeMsgPerSec: throughputMessages / consumeSeconds,
      };
    }
    return { roundTrip: summarise(samples), throughput };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [latencyTopic, throughputTopic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
