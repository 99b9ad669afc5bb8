// The floor under bench:router's per-step figures: a sequential workflow driven
// through Kafka by the smallest durable router there can be — one autocommitted
// Postgres INSERT per transition, no inbox, no outbox, no validation, all roles
// in one process — with bare kafkajs clients configured as KafkaBus's are.
// Whatever Baton's router costs above this is its own overhead; what this costs
// is the architecture's (two Kafka hops and a durable commit per step, plus a
// request and a completion hop per workflow).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
// Measured below the bus on purpose, as bare-kafka-round-trip is.
// eslint-disable-next-line no-restricted-imports
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { summarise, waitForJoin, type LatencySummary } from './bare-kafka-round-trip';

export interface DurableStepFloorOptions {
  brokers: string[];
  postgresUrl: string;
  /** Measured workflows, one at a time. */
  workflows?: number;
  warmup?: number;
  /** Steps per workflow. */
  steps?: number;
}

export interface DurableStepFloorResult {
  /** Workflow duration (request sent → completion consumed) / steps, as bench:router's per-step overhead. */
  perStep: LatencySummary;
  /** Result sent → the next task received, as bench:router's router turnaround. */
  turnaround: LatencySummary;
}

interface Work {
  workflow: string;
  step: number;
}

export async function measureDurableStepFloor(options: DurableStepFloorOptions): Promise<DurableStepFloorResult> {
  const workflows = options.workflows ?? 100;
  const warmup = options.warmup ?? 10;
  const steps = options.steps ?? 3;
  const run = randomUUID().slice(0, 8);
  const topic = (name: string): string => `bench.floor.${run}.${name}`;
  const [requests, tasks, results, completions] = ['requests', 'tasks', 'results', 'completions'].map(topic) as [
    string,
    string,
    string,
    string,
  ];
  const schema = `bench_floor_${run}`;

  const kafka = new Kafka({ clientId: `bench-floor-${run}`, brokers: options.brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  // Same durability as KafkaBus: idempotent, acks=all, one request in flight; the router and the agents each have one.
  const routerProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const agentProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const consumers = ['router', 'agents', 'observer'].map((role) =>
    kafka.consumer({ groupId: `bench-floor-${run}-${role}`, allowAutoTopicCreation: false }),
  ) as [Consumer, Consumer, Consumer];
  const [routerConsumer, agentConsumer, observer] = consumers;
  const pg = new Client({ connectionString: options.postgresUrl });

  await Promise.all([
    admin.connect(),
    routerProducer.connect(),
    agentProducer.connect(),
    ...consumers.map((c) => c.connect()),
    pg.connect(),
  ]);
  try {
    await admin.createTopics({
      topics: [requests, tasks, results, completions].map((name) => ({ topic: name, numPartitions: 1, replicationFactor: 1 })),
      waitForLeaders: true,
    });
    await pg.query(`CREATE SCHEMA ${schema}`);
    await pg.query(
      `CREATE TABLE ${schema}.transitions (seq bigserial PRIMARY KEY, workflow text NOT NULL, step int NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    );

    const send = (producer: typeof routerProducer, to: string, work: Work): Promise<unknown> =>
      producer.send({ topic: to, acks: -1, messages: [{ key: work.workflow, value: JSON.stringify(work) }] });

    // The router: a request or a result is one durable transition, then the next task (or the completion) goes out.
    await routerConsumer.subscribe({ topics: [requests, results], fromBeginning: true });
    const joins = consumers.map(waitForJoin);
    await routerConsumer.run({
      eachMessage: async ({ topic: from, message }) => {
        const work = JSON.parse(String(message.value)) as Work;
        const next = from === requests ? 0 : work.step + 1;
        await pg.query(`INSERT INTO ${schema}.transitions (workflow, step) VALUES ($1, $2)`, [work.workflow, next]);
        await send(routerProducer, next < steps ? tasks : completions, { workflow: work.workflow, step: next });
      },
    });

    let resultSentAt: number | undefined;
    const turnarounds: number[] = [];
    await agentConsumer.subscribe({ topics: [tasks], fromBeginning: true });
    await agentConsumer.run({
      eachMessage: async ({ message }) => {
        if (resultSentAt !== undefined) turnarounds.push(performance.now() - resultSentAt);
        resultSentAt = performance.now();
        await send(agentProducer, results, JSON.parse(String(message.value)) as Work);
      },
    });

    let completed: ((workflow: string) => void) | undefined;
    await observer.subscribe({ topics: [completions], fromBeginning: true });
    await observer.run({ eachMessage: async ({ message }) => completed?.(String(message.key)) });
    await Promise.all(joins);

    const perStep: number[] = [];
    for (let i = 0; i < warmup + workflows; i += 1) {
      if (i === warmup) turnarounds.length = 0;
      const workflow = `w${i}`;
      const done = new Promise<void>((resolve) => {
        completed = (key) => key === workflow && resolve();
      });
      resultSentAt = undefined;
      const started = performance.now();
      await send(agentProducer, requests, { workflow, step: -1 });
      await done;
      if (i >= warmup) perStep.push((performance.now() - started) / steps);
    }
    return { perStep: summarise(perStep), turnaround: summarise(turnarounds) };
  } finally {
    await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
    await Promise.all([routerProducer.disconnect(), agentProducer.disconnect()].map((p) => p.catch(() => undefined)));
    await admin.deleteTopics({ topics: [requests, tasks, results, completions] }).catch(() => undefined);
    await admin.disconnect();
    await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pg.end();
  }
}
