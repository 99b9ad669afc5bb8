// `npm run bench:router`: orchestration overhead of the router per pattern, with
// no-op agents answering at once (an in-process agent pool heartbeating
// BENCH_AGENTS agents), next to the bare kafkajs round trip measured in the same
// run, and next to the floor of durable-step-floor.ts (the same sequential flow
// through a router that only INSERTs a row per transition). Prints figures,
// asserts nothing.
//   BENCH_WORKFLOWS (20) workflows of each pattern one at a time: per-step overhead
//     = workflow duration / steps on its critical path (sequential 3, parallel 4
//     branches + merge = 2, hierarchical plan + 2 subtasks + review = 3); and the
//     router's turnaround, as the agents see it: from a result being sent to the
//     task it caused arriving (its causation id; two Kafka hops and the router's
//     transaction, without the request and completion hops a workflow adds once); each also as a multiple of the
//     floor's p50 for the same measure (the floor is a 3-step sequential flow);
//   BENCH_CONCURRENT (50) workflows of each pattern at once: steps/s;
//   sustained: BENCH_IN_FLIGHT (200) workflows of each pattern kept in flight for
//     BENCH_SUSTAIN_SECONDS (10) — each one that ends is replaced at once — steps/s
//     over the steps of the workflows that completed in that window.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HEADERS, KafkaBus, type OutgoingRecord } from '@baton/bus';
import {
  TASK_ASSIGNED,
  TOPICS,
  WORKFLOW_COMPLETED,
  WORKFLOW_FAILED,
  agentHeartbeat,
  createEnvelope,
  serializeEnvelope,
  taskCompleted,
  workflowDefinitionSchema,
  workflowRequested,
  type Envelope,
  type JsonValue,
  type PayloadOf,
  type WorkflowDefinition,
  type taskAssigned,
} from '@baton/contracts';
import { dropTestSchema, spawnApp, type SpawnedApp } from '@baton/testing';
import { up } from '../infra/infra';
import { measureBareKafkaRoundTrip, summarise, type LatencySummary } from './bare-kafka-round-trip';
import { measureDurableStepFloor } from './durable-step-floor';

const ROOT = join(__dirname, '..', '..');

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

const fmt = (value: number): string => value.toFixed(2);

interface Pattern {
  definition: WorkflowDefinition;
  /** Steps on the critical path, for per-step overhead. */
  criticalPath: number;
  /** Steps executed in total, for throughput. */
  totalSteps: number;
}

const PATTERNS: Record<string, Pattern> = {
  sequential: {
    definition: workflowDefinitionSchema.parse({
      name: 'bench-sequential',
      pattern: 'sequential',
      steps: [0, 1, 2].map((i) => ({ id: `s${i}`, capability: 'noop' })),
    }),
    criticalPath: 3,
    totalSteps: 3,
  },
  parallel: {
    definition: workflowDefinitionSchema.parse({
      name: 'bench-parallel',
      pattern: 'parallel',
      steps: [
        {
          id: 'p',
          branches: [0, 1, 2, 3].map((i) => ({ id: `b${i}`, capability: 'noop' })),
          merge: { strategy: 'agent', capability: 'noop' },
        },
      ],
    }),
    criticalPath: 2,
    totalSteps: 5,
  },
  hierarchical: {
    definition: workflowDefinitionSchema.parse({
      name: 'bench-hierarchical',
      pattern: 'hierarchical',
      steps: [{ id: 'h', supervisor: { capability: 'supervise' } }],
    }),
    criticalPath: 3,
    totalSteps: 4,
  },
};

type Assigned = PayloadOf<typeof taskAssigned>;

interface Agents {
  stop: () => void;
  /** Starts recording turnarounds (result sent → the task it caused received). */
  recordTurnarounds: () => void;
  /** Stops recording; the samples (ms) since recordTurnarounds. */
  takeTurnarounds: () => number[];
}

/** No-op agents: answer every task at once; the supervisor plans two subtasks and accepts the first review. */
async function startAgents(bus: KafkaBus, count: number): Promise<Agents> {
  // Result envelope id → when it was sent, while recording.
  let answeredAt: Map<string, number> | undefined;
  let turnarounds: number[] = [];
  const startedAt = new Date().toISOString();
  const beat = async (): Promise<void> => {
    for (let i = 0; i < count; i += 1) {
      const agentId = `bench-agent-${i}`;
      await bus.publish(
        agentHeartbeat,
        createEnvelope(
          agentHeartbeat,
          {
            agentId,
            instanceId: 'bench',
            team: `team-${i % 10}`,
            capabilities: ['noop', 'supervise'],
            scopes: [],
            models: ['none'],
            maxConcurrency: 1000,
            inFlight: 0,
            startedAt,
          },
          { source: 'bench', correlationId: `heartbeat:${agentId}`, agentId },
        ),
      );
    }
  };
  await beat();
  const timer = setInterval(() => void beat().catch(() => undefined), 2_000);
  /**
   * A result as an external agent would send it: the envelope built by hand and serialized, without validating it
   * again here — the router validates what it consumes, and the harness should cost the shared cores little.
   */
  const answer = (envelope: Envelope): OutgoingRecord | undefined => {
    if (envelope.type !== TASK_ASSIGNED) return undefined;
    const task = (envelope as Envelope<Assigned>).payload;
    const input = task.input as Record<string, JsonValue>;
    let output: JsonValue = { ok: true };
    if (task.capability === 'supervise') {
      output =
        input['phase'] === 'plan'
          ? {
              subtasks: [
                { id: 'x', capability: 'noop' },
                { id: 'y', capability: 'noop' },
              ],
            }
          : { decision: 'accept', answer: { ok: true } };
    }
    const result: Envelope<PayloadOf<typeof taskCompleted>> = {
      id: task.taskId,
      type: taskCompleted.type,
      version: taskCompleted.version,
      occurredAt: new Date().toISOString(),
      source: 'bench',
      correlationId: envelope.correlationId,
      causationId: envelope.id,
      workflowId: task.workflowId,
      payload: {
        taskId: task.taskId,
        workflowId: task.workflowId,
        stepId: task.stepId,
        attempt: task.attempt,
        agentId: task.agentId ?? 'bench',
        output,
        confidence: 1,
        usage: { model: 'none', inputTokens: 0, outputTokens: 0, costUsd: 0 },
      },
    };
    return {
      topic: taskCompleted.topic,
      key: taskCompleted.key(result),
      value: serializeEnvelope(result),
      headers: { [HEADERS.type]: result.type, [HEADERS.version]: String(result.version) },
    };
  };
  const answerAll = async (envelopes: readonly Envelope[]): Promise<void> => {
    const arrived = performance.now();
    const records = envelopes.flatMap((envelope) => answer(envelope) ?? []);
    if (records.length === 0) return;
    if (answeredAt) {
      for (const envelope of envelopes) {
        const sent = envelope.causationId === undefined ? undefined : answeredAt.get(envelope.causationId);
        if (sent !== undefined) turnarounds.push(arrived - sent);
      }
      // A result's id is its task's id (see answer).
      const sending = performance.now();
      for (const envelope of envelopes)
        if (envelope.type === TASK_ASSIGNED) answeredAt.set((envelope as Envelope<Assigned>).payload.taskId, sending);
    }
    await bus.publishRecords(records);
  };
  // The agents are the harness, not the system measured: a fetched batch is answered with one publish.
  await bus.subscribeBatch({
    groupId: 'bench-agents',
    topics: [TOPICS.tasksAssigned],
    partitionsConsumedConcurrently: 6,
    fromBeginning: false,
    batchHandler: (messages) => answerAll(messages.map((message) => message.envelope)),
    handler: ({ envelope }) => answerAll([envelope]),
  });
  return {
    stop: () => clearInterval(timer),
    recordTurnarounds: () => {
      answeredAt = new Map();
      turnarounds = [];
    },
    takeTurnarounds: () => {
      answeredAt = undefined;
      return turnarounds;
    },
  };
}

async function main(): Promise<void> {
  const workflows = intFromEnv('BENCH_WORKFLOWS', 20);
  const concurrent = intFromEnv('BENCH_CONCURRENT', 50);
  const agentCount = intFromEnv('BENCH_AGENTS', 10);
  const inFlight = intFromEnv('BENCH_IN_FLIGHT', 200);
  const sustainSeconds = intFromEnv('BENCH_SUSTAIN_SECONDS', 10);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  const { endpoints } = await up((message) => log(`  ${message}`));
  const prefix = `benchr-${randomUUID().slice(0, 8)}.`;
  log(`bench:router on ${endpoints.mode} infrastructure, topic prefix ${prefix}`);
  const bare = await measureBareKafkaRoundTrip({ brokers: endpoints.kafka.brokers, roundTrips: 1_000, warmup: 100, throughputMessages: 0 });
  log('floor: a 3-step sequential workflow through the smallest durable router ...');
  const floor = await measureDurableStepFloor({
    brokers: endpoints.kafka.brokers,
    postgresUrl: endpoints.postgres.url,
    workflows: 100,
    steps: 3,
  });

  let router: SpawnedApp | undefined;
  let agents: Agents | undefined;
  const schema = `benchr_${prefix.slice(7, 15)}`;
  const bus = new KafkaBus({ brokers: endpoints.kafka.brokers, clientId: 'bench-router', topicPrefix: prefix });
  try {
    router = await spawnApp({
      name: 'router',
      entry: 'apps/router/src/main.ts',
      logDir: join(ROOT, '.baton', 'bench-logs'),
      env: {
        KAFKA_BROKERS: endpoints.kafka.brokers.join(','),
        BATON_TOPIC_PREFIX: prefix,
        DATABASE_URL: endpoints.postgres.url,
        ROUTER_DB_SCHEMA: schema,
        BATON_API_KEYS: 'bench-key-0123456789abcdef',
        BATON_LOG_LEVEL: 'warn',
      },
    });
    await bus.connect();
    agents = await startAgents(bus, agentCount);
    const waiting = new Map<string, (failed: boolean) => void>();
    // Only the ends of workflows matter here: the type header picks them without decoding every event.
    await bus.subscribeRaw({
      groupId: 'bench-observer',
      topics: [TOPICS.workflowEvents],
      fromBeginning: false,
      partitionsConsumedConcurrently: 6,
      handler: async ({ headers, key }) => {
        const type = headers['baton-type'];
        if (type !== WORKFLOW_COMPLETED && type !== WORKFLOW_FAILED) return;
        waiting.get(key ?? '')?.(type === WORKFLOW_FAILED);
      },
    });
    const run = async (pattern: Pattern): Promise<{ ms: number; failed: boolean }> => {
      const workflowId = randomUUID();
      const finished = new Promise<boolean>((resolve) => waiting.set(workflowId, resolve));
      const start = performance.now();
      await bus.publish(
        workflowRequested,
        createEnvelope(
          workflowRequested,
          { workflowId, definition: pattern.definition, input: { n: 1 }, requestedBy: 'bench' },
          { source: 'bench', correlationId: workflowId },
        ),
      );
      const failed = await finished;
      waiting.delete(workflowId);
      return { ms: performance.now() - start, failed };
    };

    /** Keeps `width` workflows running for `ms`: each one that ends is replaced at once; counts those that ended in the window. */
    const sustain = async (
      pattern: Pattern,
      width: number,
      ms: number,
    ): Promise<{ completed: number; failed: number; seconds: number }> => {
      const started = performance.now();
      const deadline = started + ms;
      let completed = 0;
      let failed = 0;
      const lane = async (): Promise<void> => {
        while (performance.now() < deadline) {
          const result = await run(pattern);
          if (result.failed) failed += 1;
          else completed += 1;
        }
      };
      await Promise.all(Array.from({ length: width }, () => lane()));
      // The window closes when the last lane's workflow ends, so every counted step happened inside it.
      return { completed, failed, seconds: (performance.now() - started) / 1000 };
    };

    log('warm-up ...');
    for (const pattern of Object.values(PATTERNS)) for (let i = 0; i < 3; i += 1) await run(pattern);

    const rows: [string, string][] = [
      ['bare kafkajs round trip p50 / p99', `${fmt(bare.roundTrip.p50Ms)} / ${fmt(bare.roundTrip.p99Ms)} ms`],
    ];
    const ratio = (summary: LatencySummary): string =>
      `${fmt(summary.p50Ms)} / ${fmt(summary.p99Ms)} ms = ${fmt(summary.p50Ms / bare.roundTrip.p50Ms)}x / ${fmt(summary.p99Ms / bare.roundTrip.p99Ms)}x bare`;
    /** p50 against the floor's p50 of the same measure: what Baton's router costs beyond the least any durable router must. */
    const overFloor = (summary: LatencySummary, floorSummary: LatencySummary): string =>
      `, ${fmt(summary.p50Ms / floorSummary.p50Ms)}x the 3-step floor's p50`;
    rows.push(
      ['floor (1 INSERT per transition) per step p50 / p99', ratio(floor.perStep)],
      ['floor router turnaround p50 / p99', ratio(floor.turnaround)],
    );
    for (const [name, pattern] of Object.entries(PATTERNS)) {
      log(`${name}: ${workflows} one at a time, then ${concurrent} at once ...`);
      const perStep: number[] = [];
      agents.recordTurnarounds();
      for (let i = 0; i < workflows; i += 1) perStep.push((await run(pattern)).ms / pattern.criticalPath);
      const summary: LatencySummary = summarise(perStep);
      const turnaround: LatencySummary = summarise(agents.takeTurnarounds());
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: concurrent }, () => run(pattern)));
      const seconds = (performance.now() - started) / 1000;
      log(`${name}: ${inFlight} in flight for ${sustainSeconds} s ...`);
      const sustained = await sustain(pattern, inFlight, sustainSeconds * 1000);
      rows.push(
        [`${name} per-step overhead p50 / p99`, `${ratio(summary)}${overFloor(summary, floor.perStep)}`],
        [`${name} router turnaround p50 / p99`, `${ratio(turnaround)}${overFloor(turnaround, floor.turnaround)} (n=${turnaround.count})`],
        [
          `${name} ${concurrent} at once`,
          `${fmt((concurrent * pattern.totalSteps) / seconds)} steps/s, ${fmt(seconds)} s, ${results.filter((r) => r.failed).length} failed`,
        ],
        [
          `${name} sustained, ${inFlight} in flight`,
          `${fmt((sustained.completed * pattern.totalSteps) / sustained.seconds)} steps/s over ${fmt(sustained.seconds)} s, ${sustained.failed} failed`,
        ],
      );
    }
    const width = Math.max(...rows.map(([label]) => label.length));
    process.stdout.write('\nbench:router (per step = workflow duration / critical-path steps, request to workflow.completed)\n');
    for (const [label, value] of rows) process.stdout.write(`  ${label.padEnd(width)}  ${value}\n`);
  } finally {
    agents?.stop();
    await bus.disconnect().catch(() => undefined);
    await router?.stop();
    await dropTestSchema(endpoints.postgres.url, schema).catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:router failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
