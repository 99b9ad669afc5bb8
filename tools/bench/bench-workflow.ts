// `npm run bench:workflow`: per-step orchestration overhead of the first slice
// (router + agent-runner as real processes, real Kafka and Postgres, the
// built-in deterministic agent doing no real work), next to the bare kafkajs
// round trip measured in the same run. Prints figures, asserts nothing.
//   BENCH_WORKFLOWS (40) sequential workflows of BENCH_STEPS (10) steps, one at a time;
//   BENCH_CONCURRENT (50) workflows at once for throughput.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KafkaBus } from '@baton/bus';
import {
  STEP_DISPATCHED,
  TOPICS,
  WORKFLOW_COMPLETED,
  WORKFLOW_FAILED,
  createEnvelope,
  workflowRequested,
  type WorkflowDefinition,
} from '@baton/contracts';
import { dropTestSchema, spawnApp, type SpawnedApp } from '@baton/testing';
import { up } from '../infra/infra';
import { measureBareKafkaRoundTrip, summarise, type LatencySummary } from './bare-kafka-round-trip';

const ROOT = join(__dirname, '..', '..');

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

interface Timeline {
  dispatchedAt: number[];
  endedAt?: number;
  failed?: boolean;
  done: () => void;
}

const fmt = (value: number): string => value.toFixed(2);

async function main(): Promise<void> {
  const workflows = intFromEnv('BENCH_WORKFLOWS', 40);
  const steps = intFromEnv('BENCH_STEPS', 10);
  const concurrent = intFromEnv('BENCH_CONCURRENT', 50);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  const { endpoints } = await up((message) => log(`  ${message}`));
  const prefix = `bench-${randomUUID().slice(0, 8)}.`;
  log(`bench:workflow on ${endpoints.mode} infrastructure, topic prefix ${prefix}`);

  const bare = await measureBareKafkaRoundTrip({
    brokers: endpoints.kafka.brokers,
    roundTrips: 1_000,
    warmup: 100,
    throughputMessages: 0,
  });

  const common = { KAFKA_BROKERS: endpoints.kafka.brokers.join(','), BATON_TOPIC_PREFIX: prefix };
  const logDir = join(ROOT, '.baton', 'bench-logs');
  const apps: SpawnedApp[] = [];
  const schema = `bench_${prefix.slice(6, 14)}`;
  const bus = new KafkaBus({ brokers: endpoints.kafka.brokers, clientId: 'bench-workflow', topicPrefix: prefix });
  try {
    apps.push(
      await spawnApp({
        name: 'router',
        entry: 'apps/router/src/main.ts',
        logDir,
        env: {
          ...common,
          DATABASE_URL: endpoints.postgres.url,
          ROUTER_DB_SCHEMA: schema,
          BATON_API_KEYS: 'bench-key-0123456789abcdef',
          BATON_LOG_LEVEL: 'warn',
        },
      }),
      await spawnApp({
        name: 'agent-runner',
        entry: 'apps/agent-runner/src/main.ts',
        logDir,
        env: { ...common, BATON_LOG_LEVEL: 'warn' },
      }),
    );
    await bus.connect();
    const timelines = new Map<string, Timeline>();
    await bus.subscribe({
      groupId: 'bench-observer',
      topics: [TOPICS.workflowEvents],
      fromBeginning: false,
      handler: async ({ envelope }) => {
        const timeline = envelope.workflowId ? timelines.get(envelope.workflowId) : undefined;
        if (!timeline) return;
        const now = performance.now();
        if (envelope.type === STEP_DISPATCHED) timeline.dispatchedAt.push(now);
        if (envelope.type === WORKFLOW_COMPLETED || envelope.type === WORKFLOW_FAILED) {
          timeline.endedAt = now;
          timeline.failed = envelope.type === WORKFLOW_FAILED;
          timeline.done();
        }
      },
    });

    const definition: WorkflowDefinition = {
      name: 'bench-sequential',
      pattern: 'sequential',
      steps: Array.from({ length: steps }, (_, index) => ({ id: `s${index}`, capability: 'echo' })),
    };
    const run = async (): Promise<Timeline> => {
      const workflowId = randomUUID();
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const timeline: Timeline = { dispatchedAt: [], done };
      timelines.set(workflowId, timeline);
      await bus.publish(
        workflowRequested,
        createEnvelope(
          workflowRequested,
          { workflowId, definition, input: { n: workflowId }, requestedBy: 'bench' },
          { source: 'bench', correlationId: workflowId },
        ),
      );
      await finished;
      return timeline;
    };

    log(`warm-up ...`);
    for (let i = 0; i < 3; i += 1) await run();

    log(`${workflows} workflows of ${steps} steps, one at a time ...`);
    const stepGaps: number[] = [];
    for (let i = 0; i < workflows; i += 1) {
      const timeline = await run();
      const marks = [...timeline.dispatchedAt, timeline.endedAt ?? Number.NaN];
      marks.slice(1).forEach((mark, k) => stepGaps.push(mark - (marks[k] ?? Number.NaN)));
    }
    const perStep = summarise(stepGaps);

    log(`${concurrent} workflows at once ...`);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: concurrent }, () => run()));
    const seconds = (performance.now() - started) / 1000;
    const failed = results.filter((timeline) => timeline.failed).length;

    print(bare.roundTrip, perStep, { concurrent, steps, seconds, failed });
  } finally {
    await bus.disconnect().catch(() => undefined);
    await Promise.allSettled(apps.map((app) => app.stop()));
    await dropTestSchema(endpoints.postgres.url, schema).catch(() => undefined);
  }
}

function print(
  bare: LatencySummary,
  perStep: LatencySummary,
  load: { concurrent: number; steps: number; seconds: number; failed: number },
): void {
  const rows: [string, string][] = [
    ['bare kafkajs round trip p50 / p99', `${fmt(bare.p50Ms)} / ${fmt(bare.p99Ms)} ms (${bare.count} samples)`],
    ['per-step overhead p50 / p99', `${fmt(perStep.p50Ms)} / ${fmt(perStep.p99Ms)} ms (${perStep.count} steps)`],
    ['  ratio to bare round trip p50 / p99', `${fmt(perStep.p50Ms / bare.p50Ms)}x / ${fmt(perStep.p99Ms / bare.p99Ms)}x`],
    ['  per step, what it includes', 'router tx + outbox relay -> Kafka -> runner -> Kafka -> router inbox tx'],
    [
      `throughput, ${load.concurrent} workflows x ${load.steps} steps at once`,
      `${fmt((load.concurrent * load.steps) / load.seconds)} steps/s, ${fmt(load.seconds)} s, ${load.failed} failed`,
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write('\nbench:workflow\n');
  for (const [label, value] of rows) process.stdout.write(`  ${label.padEnd(width)}  ${value}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:workflow failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
