// `npm run bench:context`: the context graph on a generated graph (default 100,000 entities, 500,000
// relationships, 500,000 facts: 1,000,000 relationships + facts), real Neo4j and Kafka. Prints figures, asserts
// nothing:
//   - generation time (server-side UNWIND batches);
//   - facts/s ingested through the store's batch write (the path the consumers use), one transaction at a time and
//     then with CONTEXT_WRITES_IN_FLIGHT (default 2) at once as the service writes full batches, and end to end from
//     `baton.context.facts` (publish → consumer → batch → graph) with context-graph running in this process; all
//     after an untimed warm-up through the end-to-end path;
//   - k=2 neighbourhood and recent-facts (entity + DEPENDS_ON, 24 h window) latency p50/p99, service level;
//   - push latency: a fact on what an in-flight task's entity DEPENDS_ON, published → context.updated consumed.
// BENCH_ENTITIES, BENCH_RELS_PER_ENTITY (5), BENCH_FACTS_PER_ENTITY (5), BENCH_INGEST (20000, store),
// BENCH_INGEST_KAFKA (20000, end to end), BENCH_WARMUP (10000 facts end to end, untimed, before the ingest phases),
// BENCH_QUERIES (500), BENCH_PUSH (50 push latency samples);
// BENCH_KEEP=1 leaves the generated graph (namespace printed) instead of deleting it.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import neo4j, { type Driver } from 'neo4j-driver';
import { KafkaBus } from '@baton/bus';
import { TOPICS, contextFactRecorded, createEnvelope, serializeEnvelope, stepDispatched } from '@baton/contracts';
import { AppModule } from '../../apps/context-graph/src/app.module';
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from '../../apps/context-graph/src/config/context-graph-config';
import type { FactInput } from '../../apps/context-graph/src/facts/fact-record';
import { FactStore } from '../../apps/context-graph/src/facts/fact-store';
import { ContextQueries } from '../../apps/context-graph/src/queries/context-queries.service';
import { up } from '../infra/infra';
import { summarise, type LatencySummary } from './bare-kafka-round-trip';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const fmt = (value: number): string => value.toFixed(2);
const latency = (name: string, s: LatencySummary): string =>
  `${name.padEnd(34)} p50 ${fmt(s.p50Ms)} ms  p99 ${fmt(s.p99Ms)} ms  mean ${fmt(s.meanMs)} ms  max ${fmt(s.maxMs)} ms  (n=${s.count})`;

const BATCH = 10_000;
/** The service's default CONTEXT_BATCH_MAX. */
const STORE_BATCH = 2_000;
const DAY_MS = 24 * 3_600_000;

/** Server-side generation: each batch is one UNWIND over a range, so no data crosses the wire. */
async function generate(driver: Driver, ns: string, entities: number, relsPer: number, factsPer: number): Promise<void> {
  const run = async (cypher: string, from: number, to: number, extra: Record<string, unknown> = {}): Promise<void> => {
    await driver.executeQuery(cypher, {
      ns,
      from: neo4j.int(from),
      to: neo4j.int(to),
      n: neo4j.int(entities),
      now: Date.now(),
      ...extra,
    });
  };
  for (let from = 0; from < entities; from += BATCH) {
    await run(
      `UNWIND range($from, $to) AS i
       CREATE (:Entity {uid: $ns + '|Service|s' + i, ns: $ns, kind: 'Service', id: 's' + i, createdAt: $now})`,
      from,
      Math.min(entities, from + BATCH) - 1,
    );
  }
  const entityBatch = Math.max(1, Math.floor(BATCH / relsPer));
  for (let from = 0; from < entities; from += entityBatch) {
    await run(
      `UNWIND range($from, $to) AS i
       MATCH (a:Entity {uid: $ns + '|Service|s' + i})
       UNWIND range(1, $per) AS k
       WITH a, i, k, (i * 7919 + k * 104729) % $n AS j WHERE j <> i
       MATCH (b:Entity {uid: $ns + '|Service|s' + j})
       CREATE (a)-[:REL {type: CASE WHEN k % 5 = 0 THEN 'OWNS' ELSE 'DEPENDS_ON' END, scopes: [], at: $now}]->(b)`,
      from,
      Math.min(entities, from + entityBatch) - 1,
      { per: neo4j.int(relsPer) },
    );
  }
  const factBatch = Math.max(1, Math.floor(BATCH / factsPer));
  for (let from = 0; from < entities; from += factBatch) {
    await run(
      `UNWIND range($from, $to) AS i
       MATCH (e:Entity {uid: $ns + '|Service|s' + i})
       UNWIND range(1, $per) AS k
       WITH e, i, k, randomUUID() AS id
       CREATE (:Fact {uid: $ns + '|' + id, ns: $ns, id: id, aboutUid: e.uid, aboutKind: 'Service', aboutId: e.id,
                      attribute: 'metric.m' + k, valueJson: toString(i * k), confidence: 0.5 + (k % 5) / 10.0,
                      scopes: CASE WHEN k = 3 THEN ['customer-data'] ELSE [] END,
                      occurredAt: $now - ((i * 31 + k * 977) % ${7 * DAY_MS}), recordedAt: $now, source: 'bench',
                      search: e.id + ' metric m' + k})-[:ABOUT]->(e)`,
      from,
      Math.min(entities, from + factBatch) - 1,
      { per: neo4j.int(factsPer) },
    );
  }
}

/**
 * Which of these facts are in the graph (unique-index lookups: a scan of a million facts would skew the rate). The
 * caller asks only about those not seen yet, so polling does not compete with ingestion for the same cores.
 */
async function landedFacts(driver: Driver, uids: readonly string[]): Promise<string[]> {
  const result = await driver.executeQuery('UNWIND $uids AS uid MATCH (f:Fact {uid: uid}) RETURN f.uid AS uid', { uids });
  return result.records.map((record) => record.get('uid') as string);
}

/** Every node a namespace holds has a uid starting with it; these labels have a uid index to find them by. */
const UID_LABELS = ['Fact', 'Entity', 'Task', 'Access', 'PendingPush', 'PushSequence'] as const;

/**
 * Label by label through the uid indexes, then whatever is left: a round that scans all nodes for `ns` reads every
 * other namespace's nodes too, and with a million of its own to delete that held the shared machine for minutes.
 */
async function cleanup(driver: Driver, ns: string): Promise<void> {
  const rounds = async (match: string): Promise<void> => {
    for (;;) {
      const result = await driver.executeQuery(`${match} WITH n LIMIT 5000 DETACH DELETE n RETURN count(n) AS deleted`, { ns });
      if (Number(result.records[0]?.get('deleted')) === 0) return;
    }
  };
  for (const label of UID_LABELS) await rounds(`MATCH (n:${label}) WHERE n.uid STARTS WITH $ns`);
  await rounds('MATCH (n) WHERE n.ns = $ns');
}

function fact(ns: string, entities: number, i: number, source: string): FactInput {
  return {
    id: randomUUID(),
    body: {
      about: { kind: 'Service', id: `s${(i * 48271) % entities}` },
      attribute: 'connection-pool.size',
      value: i % 100,
      text: `pool size ${i % 100} (${ns})`,
      confidence: 0.8,
      scopes: [],
    },
    occurredAt: new Date().toISOString(),
    source,
  };
}

async function main(): Promise<void> {
  const entities = intFromEnv('BENCH_ENTITIES', 100_000);
  const relsPer = intFromEnv('BENCH_RELS_PER_ENTITY', 5);
  const factsPer = intFromEnv('BENCH_FACTS_PER_ENTITY', 5);
  const ingestCount = intFromEnv('BENCH_INGEST', 20_000);
  const kafkaCount = intFromEnv('BENCH_INGEST_KAFKA', 20_000);
  const warmup = intFromEnv('BENCH_WARMUP', 10_000);
  const queries = intFromEnv('BENCH_QUERIES', 500);
  const keep = process.env['BENCH_KEEP'] === '1';

  const { endpoints } = await up((message) => log(`  ${message}`));
  const ns = `bench-${randomUUID().slice(0, 8)}.`;
  log(`bench:context on ${endpoints.mode} infrastructure, namespace/topic prefix ${ns}`);
  const driver = neo4j.driver(endpoints.neo4j.uri, neo4j.auth.basic(endpoints.neo4j.user, endpoints.neo4j.password), {
    disableLosslessIntegers: true,
  });
  Object.assign(process.env, {
    NEO4J_URI: endpoints.neo4j.uri,
    NEO4J_USER: endpoints.neo4j.user,
    NEO4J_PASSWORD: endpoints.neo4j.password,
    KAFKA_BROKERS: endpoints.kafka.brokers.join(','),
    BATON_TOPIC_PREFIX: ns,
    BATON_API_KEYS: 'bench-key-0123456789abcdef',
    BATON_LOG_LEVEL: 'warn',
  });
  let app: INestApplicationContext | undefined;
  const bus = new KafkaBus({ brokers: endpoints.kafka.brokers, clientId: 'bench-context', topicPrefix: ns });
  try {
    // The app first: its start-up migrations create the constraints and indexes generation relies on.
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    await app.init();

    const generationStart = performance.now();
    await generate(driver, ns, entities, relsPer, factsPer);
    const generationSeconds = (performance.now() - generationStart) / 1_000;
    const rels = entities * relsPer;
    const facts = entities * factsPer;
    log(`generated ${entities} entities, ~${rels} relationships, ${facts} facts in ${fmt(generationSeconds)} s`);

    // Warm-up, untimed, like bench:bus's first round trips: a fresh JVM plans and compiles the write on its first
    // batches (the first run after Neo4j started measured half the rate of the runs after it), and the service's
    // consumer joins its group. The same path as end to end, so both ends are warm.
    await bus.connect();
    const serviceBus = app.get(KafkaBus);
    const publishAndWait = async (records: { topic: string; key: string; value: Buffer }[]): Promise<void> => {
      const before = serviceBus.stats();
      for (let i = 0; i < records.length; i += 1_000) await bus.publishRecords(records.slice(i, i + 1_000));
      // A fact dead-lettered or lost would otherwise keep the bench waiting forever.
      let handled = 0;
      let progressAt = performance.now();
      while (handled < records.length) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const now = serviceBus.stats();
        if (now.deadLettered > before.deadLettered) {
          throw new Error(`${now.deadLettered - before.deadLettered} facts were dead-lettered (see the service's log)`);
        }
        const seen = now.handled - before.handled;
        if (seen > handled) [handled, progressAt] = [seen, performance.now()];
        else if (performance.now() - progressAt > 60_000) {
          throw new Error(`${handled} of ${records.length} facts handled, and none more for 60 s`);
        }
      }
    };
    const factRecord = (input: FactInput): { topic: string; key: string; value: Buffer } => ({
      topic: TOPICS.contextFacts,
      key: input.body.about.id,
      value: serializeEnvelope(
        createEnvelope(contextFactRecorded, input.body, {
          source: input.source,
          correlationId: 'bench',
          id: input.id,
        }),
      ),
    });
    await publishAndWait(Array.from({ length: warmup }, (_, i) => factRecord(fact(ns, entities, i, 'bench-warmup'))));

    // Store throughput: the batch write the consumers use (one transaction per CONTEXT_BATCH_MAX facts, default).
    const store = app.get(FactStore);
    const direct = Array.from({ length: ingestCount }, (_, i) => fact(ns, entities, i, 'bench-store'));
    const storeStart = performance.now();
    for (let i = 0; i < direct.length; i += STORE_BATCH) await store.writeBatch(direct.slice(i, i + STORE_BATCH));
    const storeRate = ingestCount / ((performance.now() - storeStart) / 1_000);

    // The same with the service's writes in flight: none of these facts supersedes or relates, so, as in
    // FactIngestion under load, full batches overlap.
    const inFlight = app.get<ContextGraphConfig>(CONTEXT_GRAPH_CONFIG).writesInFlight;
    const overlapped = Array.from({ length: ingestCount }, (_, i) => fact(ns, entities, i, 'bench-store'));
    let nextBatch = 0;
    const writer = async (): Promise<void> => {
      for (let i = nextBatch; i < overlapped.length; i = nextBatch) {
        nextBatch += STORE_BATCH;
        await store.writeBatch(overlapped.slice(i, i + STORE_BATCH));
      }
    };
    const overlappedStart = performance.now();
    await Promise.all(Array.from({ length: inFlight }, writer));
    const overlappedRate = ingestCount / ((performance.now() - overlappedStart) / 1_000);

    // End to end: published on baton.context.facts, consumed, batched and written by the running service. The end is
    // when the service has handled every fact, which it counts once their graph write committed: read from its bus in
    // memory, so finding the end neither waits for a poll nor loads Neo4j while it writes.
    const uids: string[] = [];
    const records = Array.from({ length: kafkaCount }, (_, i) => {
      const input = fact(ns, entities, i, 'bench-kafka');
      uids.push(`${ns}|${input.id}`);
      return factRecord(input);
    });
    const kafkaStart = performance.now();
    await publishAndWait(records);
    const kafkaRate = kafkaCount / ((performance.now() - kafkaStart) / 1_000);
    // Then, untimed, that every one of them is in the graph.
    const missing = new Set(uids);
    for (let i = 0; i < uids.length; i += 5_000) for (const uid of await landedFacts(driver, uids.slice(i, i + 5_000))) missing.delete(uid);
    if (missing.size > 0) throw new Error(`end to end: ${missing.size} of ${kafkaCount} facts handled but not in the graph`);

    // Push: a task in flight about s<i> (via the router's step.dispatched); a fact about what s<i> DEPENDS_ON is
    // published; time until the task's context.updated is consumed.
    const pushSamples = intFromEnv('BENCH_PUSH', 50);
    const pending = new Map<string, (at: number) => void>();
    await bus.subscribe({
      groupId: `bench-updates-${randomUUID()}`,
      topics: [TOPICS.contextUpdates],
      fromBeginning: false,
      handler: async ({ envelope }) => {
        const payload = envelope.payload as { taskId: string };
        pending.get(payload.taskId)?.(performance.now());
      },
    });
    const push: number[] = [];
    for (let i = 0; i < pushSamples; i += 1) {
      const workflowId = randomUUID();
      const taskId = randomUUID();
      const about = { kind: 'Service', id: `s${(i * 7) % entities}` };
      await bus.publish(
        stepDispatched,
        createEnvelope(
          stepDispatched,
          {
            workflowId,
            stepId: 'diagnose',
            taskId,
            attempt: 1,
            capability: 'diagnosis',
            input: { entities: [about] },
          },
          { source: 'bench', correlationId: workflowId, workflowId },
        ),
      );
      for (;;) {
        const known = await driver.executeQuery('MATCH (t:Task {uid: $uid}) RETURN count(t) AS n', {
          uid: `${ns}|task|${taskId}`,
        });
        if (Number(known.records[0]?.get('n')) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const dependency = await driver.executeQuery(
        "MATCH (:Entity {uid: $uid})-[r:REL {type: 'DEPENDS_ON'}]->(d:Entity) RETURN d.id AS id LIMIT 1",
        { uid: `${ns}|Service|${about.id}` },
      );
      const target = {
        kind: 'Service',
        id: (dependency.records[0]?.get('id') as string | undefined) ?? about.id,
      };
      const arrived = new Promise<number>((resolve) => pending.set(taskId, resolve));
      const sentAt = performance.now();
      await bus.publish(
        contextFactRecorded,
        createEnvelope(
          contextFactRecorded,
          { about: target, attribute: 'connection-pool.size', value: i, confidence: 0.9, scopes: [] },
          { source: 'bench', correlationId: 'bench' },
        ),
      );
      push.push((await arrived) - sentAt);
      pending.delete(taskId);
    }

    // Query latency at the service (Cypher + driver), random entities, caller without customer-data.
    const service = app.get(ContextQueries);
    const reader = { caller: 'bench', scopes: [] as string[] };
    const pickEntity = (i: number) => ({ kind: 'Service', id: `s${(i * 2654435761) % entities}` });
    for (let i = 0; i < 50; i += 1) await service.neighbourhood(pickEntity(i), 2, 50, reader);
    const neighbourhood: number[] = [];
    const recent: number[] = [];
    let edgesSeen = 0;
    let factsSeen = 0;
    for (let i = 100; i < 100 + queries; i += 1) {
      const t0 = performance.now();
      const result = await service.neighbourhood(pickEntity(i), 2, 50, reader);
      neighbourhood.push(performance.now() - t0);
      edgesSeen += result.edges.length;
      const t1 = performance.now();
      const found = await service.recent(pickEntity(i), Date.now() - DAY_MS, 2, 50, reader);
      recent.push(performance.now() - t1);
      factsSeen += found.length;
    }

    const lines = [
      `bench:context — ${entities} entities, ${rels} relationships + ${facts} facts (${rels + facts} total), ${endpoints.mode} Neo4j`,
      `generation (UNWIND batches)         ${fmt(generationSeconds)} s  (${fmt((entities + rels + facts) / generationSeconds)} items/s)`,
      `ingest, store batch write           ${fmt(storeRate)} facts/s  (${ingestCount} facts, ${STORE_BATCH} per transaction, one at a time)`,
      `ingest, store, writes in flight     ${fmt(overlappedRate)} facts/s  (${ingestCount} facts, ${STORE_BATCH} per transaction, ${inFlight} at once)`,
      `ingest, end to end from Kafka       ${fmt(kafkaRate)} facts/s  (${kafkaCount} facts, publish → graph)`,
      latency('neighbourhood k=2 (limit 50)', summarise(neighbourhood)) + `  avg ${fmt(edgesSeen / queries)} edges`,
      latency('recent facts + DEPENDS_ON, 24 h', summarise(recent)) + `  avg ${fmt(factsSeen / queries)} facts`,
      latency('push: fact published → update', summarise(push)) + '  (task on a dependant of the entity)',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await app?.close();
    await bus.disconnect().catch(() => undefined);
    if (keep) log(`kept the generated graph: namespace ${ns}`);
    else await cleanup(driver, ns);
    await driver.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
