import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type BusLogger, type ConsumedMessage, KafkaBus, MessageTooLargeError, type Subscription } from '@baton/bus';
import { RawKafka } from '@baton/bus/testing';
import {
  createEnvelope,
  decodeEnvelope,
  dlqTopic,
  type Envelope,
  type PayloadOf,
  TOPICS,
  taskCompleted,
  workflowCompleted,
} from '@baton/contracts';
import type { DataSource } from 'typeorm';
import { CLAIMS_TABLE, initializeDataSource, Outbox, OutboxRelay, PostgresClaimStore, pruneClaims } from '../src/index';
import { eventually } from '../src/testing/eventually';
import { createTestDataSource } from '../src/testing/test-orders';
import { dropSchema, uniqueSchema } from '../src/testing/test-schema';

/**
 * Claim checks on real Postgres and Kafka: the outbox path (claim written in the
 * caller's transaction), the bus path (a stateless publisher with a store), and
 * the consumer side (resolved before the handler, verified, dead-lettered when
 * missing or tampered with).
 */
const url = process.env['DATABASE_URL'] ?? '';
const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');
const silent: BusLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const quietRelay = { log: () => undefined, warn: () => undefined, error: () => undefined };
const MIB = 1_048_576;

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const blob = (bytes: number): string =>
  randomBytes(Math.ceil(bytes / 2))
    .toString('hex')
    .slice(0, bytes);

function completedWorkflow(output: string): Envelope<PayloadOf<typeof workflowCompleted>> {
  const workflowId = randomUUID();
  return createEnvelope(workflowCompleted, { workflowId, output: { blob: output } }, { source: 'claims-test', correlationId: workflowId });
}

function completedTask(output: string): Envelope<PayloadOf<typeof taskCompleted>> {
  const workflowId = randomUUID();
  return createEnvelope(
    taskCompleted,
    {
      taskId: randomUUID(),
      workflowId,
      stepId: 'big',
      attempt: 1,
      agentId: 'agent-1',
      output: { blob: output },
      confidence: 0.9,
      usage: { model: 'test', inputTokens: 1, outputTokens: 1, costUsd: 0 },
    },
    { source: 'claims-test', correlationId: workflowId, workflowId },
  );
}

const blobOf = (message: ConsumedMessage): string => {
  const payload = message.envelope.payload as { output: { blob: string } };
  return payload.output.blob;
};

describe('claim checks on real Postgres and Kafka', () => {
  const schema = uniqueSchema('claims');
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const raw = new RawKafka(brokers);
  let dataSource: DataSource;
  let store: PostgresClaimStore;
  let runnerStore: PostgresClaimStore;
  const buses: KafkaBus[] = [];
  const subscriptions: Subscription[] = [];
  let relay: OutboxRelay | undefined;

  async function bus(clientId: string, claimStore?: PostgresClaimStore): Promise<KafkaBus> {
    const created = new KafkaBus({
      brokers,
      clientId,
      topicPrefix: prefix,
      logger: silent,
      retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
      ...(claimStore ? { claimStore } : {}),
    });
    buses.push(created);
    await created.connect();
    await created.ensureTopics([TOPICS.workflowEvents, TOPICS.tasksResults]);
    return created;
  }

  async function collect(on: KafkaBus, topic: string, into: ConsumedMessage[]): Promise<void> {
    subscriptions.push(
      await on.subscribe({
        groupId: `g-${randomUUID().slice(0, 8)}`,
        topics: [topic],
        handler: async (message) => void into.push(message),
      }),
    );
  }

  beforeAll(async () => {
    dataSource = await initializeDataSource(createTestDataSource(url, schema));
    store = PostgresClaimStore.forDataSource(dataSource);
    // The way the stateless agent-runner gets one: by URL, with the table ensured.
    runnerStore = await PostgresClaimStore.connect(url, 'claims-test-runner');
  });

  afterAll(async () => {
    await relay?.stop();
    await Promise.allSettled(subscriptions.map((subscription) => subscription.close()));
    await Promise.allSettled(buses.map((created) => created.disconnect()));
    await raw.close();
    await runnerStore?.close();
    await dataSource?.destroy();
    await dropSchema(url, schema);
  });

  it('outbox: an envelope over the threshold is stored as a claim in the same transaction; one under it stays inline', async () => {
    const outbox = new Outbox({ claimThresholdBytes: 64 * 1024 });
    const big = completedWorkflow(blob(MIB));
    const small = completedWorkflow('tiny');
    await dataSource.transaction(async (manager) => {
      await outbox.enqueue(manager, workflowCompleted, big);
      await outbox.enqueue(manager, workflowCompleted, small);
    });
    const rows: Array<{ id: string; value: Buffer }> = await dataSource.query(
      `SELECT id, value FROM "${schema}".outbox_messages WHERE id = ANY($1::uuid[])`,
      [[big.id, small.id]],
    );
    const byId = new Map(rows.map((row) => [row.id, row.value]));
    const bigValue = byId.get(big.id)!;
    expect(bigValue.length).toBeLessThan(2048);
    const decoded = decodeEnvelope(TOPICS.workflowEvents, bigValue);
    expect(decoded.payload).toBeNull();
    const ref = decoded.header.payloadRef!;
    const payloadJson = JSON.stringify(big.payload);
    expect(ref).toMatchObject({ version: 1, store: 'postgres', bytes: Buffer.byteLength(payloadJson), sha256: sha(payloadJson) });
    expect((await store.get(ref.id))?.toString('utf8')).toBe(payloadJson);
    expect(decodeEnvelope(TOPICS.workflowEvents, byId.get(small.id)!).header.payloadRef).toBeUndefined();
  });

  it('outbox: a rolled-back transaction leaves neither the message nor its claim', async () => {
    const outbox = new Outbox({ claimThresholdBytes: 1024 });
    const big = completedWorkflow(blob(10_000));
    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.enqueue(manager, workflowCompleted, big);
        throw new Error('state change failed');
      }),
    ).rejects.toThrow('state change failed');
    // The random payload makes its digest unique across every suite sharing the table.
    expect(await dataSource.query(`SELECT 1 FROM ${CLAIMS_TABLE} WHERE sha256 = $1`, [sha(JSON.stringify(big.payload))])).toEqual([]);
    expect(await dataSource.query(`SELECT 1 FROM "${schema}".outbox_messages WHERE id = $1`, [big.id])).toEqual([]);
  });

  it('outbox → relay → Kafka → a consumer with a claim store: the handler gets the whole 1 MB payload', async () => {
    const publisher = await bus('claims-relay');
    relay = new OutboxRelay(dataSource, publisher, { logger: quietRelay, pollIntervalMs: 50 });
    relay.start();
    const consumer = await bus('claims-consumer', runnerStore);
    const received: ConsumedMessage[] = [];
    await collect(consumer, TOPICS.workflowEvents, received);
    const output = blob(MIB);
    const envelope = completedWorkflow(output);
    await dataSource.transaction((manager) => new Outbox().enqueue(manager, workflowCompleted, envelope));
    const message = await eventually('the claim-checked workflow.completed', async () =>
      received.find((m) => m.envelope.id === envelope.id),
    );
    expect(message.envelope.payloadRef).toBeUndefined();
    expect((message.envelope.payload as { output: { blob: string } }).output.blob).toHaveLength(MIB);
    expect(sha((message.envelope.payload as { output: { blob: string } }).output.blob)).toBe(sha(output));
  });

  it('bus: a publisher with a store sends a reference over the threshold and inline under it; consumers see payloads only', async () => {
    const publisher = await bus('claims-publisher', runnerStore);
    const consumer = await bus('claims-reader', store);
    const received: ConsumedMessage[] = [];
    await collect(consumer, TOPICS.tasksResults, received);
    const output = blob(MIB);
    const big = completedTask(output);
    const small = completedTask('small');
    await publisher.publish(taskCompleted, big);
    await publisher.publish(taskCompleted, small);

    const onWire = await raw.readUntil(
      `${prefix}${TOPICS.tasksResults}`,
      (messages) => messages.some((m) => m.value.includes(small.id)),
      30_000,
    );
    const bigRecord = onWire.find((m) => m.value.includes(big.id))!;
    expect(bigRecord.value.length).toBeLessThan(2048);
    expect(decodeEnvelope(TOPICS.tasksResults, bigRecord.value).header.payloadRef).toMatchObject({ store: 'postgres' });
    expect(decodeEnvelope(TOPICS.tasksResults, onWire.find((m) => m.value.includes(small.id))!.value).header.payloadRef).toBeUndefined();

    await eventually('both results consumed', async () => (received.length >= 2 ? true : undefined));
    const bigConsumed = received.find((m) => m.envelope.id === big.id)!;
    expect(blobOf(bigConsumed)).toHaveLength(MIB);
    expect(sha(blobOf(bigConsumed))).toBe(sha(output));
    expect(blobOf(received.find((m) => m.envelope.id === small.id)!)).toBe('small');
  });

  it('a tampered or missing claim is dead-lettered with the reason; the handler never sees it', async () => {
    const publisher = await bus('claims-tamper', runnerStore);
    const tampered = completedTask(blob(400_000));
    const missing = completedTask(blob(400_000));
    await publisher.publish(taskCompleted, tampered);
    await publisher.publish(taskCompleted, missing);
    const onWire = await raw.readUntil(
      `${prefix}${TOPICS.tasksResults}`,
      (messages) => messages.some((m) => m.value.includes(missing.id)),
      30_000,
    );
    const refOf = (id: string) => decodeEnvelope(TOPICS.tasksResults, onWire.find((m) => m.value.includes(id))!.value).header.payloadRef!;
    await dataSource.query(`UPDATE ${CLAIMS_TABLE} SET data = overlay(data placing '\\x00'::bytea from 10 for 1) WHERE id = $1`, [
      refOf(tampered.id).id,
    ]);
    await dataSource.query(`DELETE FROM ${CLAIMS_TABLE} WHERE id = $1`, [refOf(missing.id).id]);

    const consumer = await bus('claims-victim', store);
    const received: ConsumedMessage[] = [];
    await collect(consumer, TOPICS.tasksResults, received);
    const dead = await raw.readUntil(dlqTopic(`${prefix}${TOPICS.tasksResults}`), (messages) => messages.length >= 2, 30_000);
    const reasonOf = (id: string) => dead.find((m) => m.value.includes(id))?.headers['baton-dlq-reason'];
    expect(reasonOf(tampered.id)).toMatch(
      new RegExp(`^ClaimCheckError: payloadRef: postgres claim ${refOf(tampered.id).id} is corrupt: sha256 `),
    );
    expect(reasonOf(missing.id)).toMatch(new RegExp(`^ClaimCheckError: payloadRef: postgres claim ${refOf(missing.id).id} not found`));
    // Dead-lettered at once, not after retries.
    expect(dead.find((m) => m.value.includes(tampered.id))?.headers['baton-dlq-attempts']).toBe('1');
    expect(received.map((m) => m.envelope.id)).not.toContain(tampered.id);
    expect(received.map((m) => m.envelope.id)).not.toContain(missing.id);
  });

  it('a consumer without a claim store dead-letters a reference, naming why', async () => {
    const publisher = await bus('claims-nostore-pub', runnerStore);
    const envelope = completedWorkflow(blob(400_000));
    await publisher.publish(workflowCompleted, envelope);
    const consumer = await bus('claims-nostore');
    await collect(consumer, TOPICS.workflowEvents, []);
    const dead = await raw.readUntil(
      dlqTopic(`${prefix}${TOPICS.workflowEvents}`),
      (messages) => messages.some((m) => m.value.includes(envelope.id)),
      30_000,
    );
    expect(dead.find((m) => m.value.includes(envelope.id))?.headers['baton-dlq-reason']).toMatch(/has no claim store configured/);
  });

  it('without a claim store, publishing an envelope over the broker limit fails before Kafka, naming size and limit', async () => {
    const publisher = await bus('claims-none');
    const envelope = completedTask(blob(MIB + 10));
    const error = await publisher.publish(taskCompleted, envelope).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toMatch(
      /^task\.completed on baton\.tasks\.results is \d+ bytes serialized; the limit is 1048576 bytes \(maxMessageBytes\); no claim store/,
    );
  });

  it('retention deletes claims older than the cut-off and keeps newer ones', async () => {
    const old = randomUUID();
    const fresh = randomUUID();
    for (const id of [old, fresh]) await runnerStore.put({ id, data: Buffer.from('"x"'), sha256: sha('"x"'), topic: 't', type: 'x' });
    await dataSource.query(`UPDATE ${CLAIMS_TABLE} SET created_at = now() - interval '8 days' WHERE id = $1`, [old]);
    const deleted = await pruneClaims(dataSource, new Date(Date.now() - 7 * 86_400_000));
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await store.get(old)).toBeUndefined();
    expect((await store.get(fresh))?.toString('utf8')).toBe('"x"');
  });
});
