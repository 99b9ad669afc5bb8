import { randomBytes, randomUUID } from 'node:crypto';
import type { KafkaBus } from '@baton/bus';
import type { DataSource } from 'typeorm';
import { createEnvelope, type Envelope, type PayloadOf, TOPICS, workflowCompleted } from '@baton/contracts';
import { Inbox, initializeDataSource, Outbox, OutboxRelay } from '../src/index';
import { spawnScript } from '../src/testing/child-process';
import { eventually } from '../src/testing/eventually';
import { KafkaProbe, testKafka } from '../src/testing/kafka-probe';
import { connectTestBus } from '../src/testing/test-bus';
import { countRows, createTestDataSource, insertEffect } from '../src/testing/test-orders';
import { dropSchema, uniqueSchema } from '../src/testing/test-schema';

const url = process.env['DATABASE_URL'] ?? '';
const brokersEnv = process.env['KAFKA_BROKERS'] ?? '';
const brokers = brokersEnv.split(',');
const CLIENT_ID = 'persistence-crash-test';
const quietLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

type Completed = Envelope<PayloadOf<typeof workflowCompleted>>;

describe('outbox across process crashes (real Postgres, real Kafka, SIGKILLed children)', () => {
  const schema = uniqueSchema('crash');
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const kafka = testKafka(brokers, CLIENT_ID);
  let publisher: KafkaBus;
  const probe = new KafkaProbe(kafka, `${prefix}${TOPICS.workflowEvents}`, `probe-${prefix}`);
  const relays: OutboxRelay[] = [];
  let dataSource: DataSource;

  const unpublished = (ids: readonly string[]): Promise<number> =>
    countRows(dataSource, 'outbox_messages', 'published_at IS NULL AND id = ANY($1::uuid[])', [ids]);
  const received = (ids: readonly string[]): string[] => probe.ids().filter((id) => ids.includes(id));

  beforeAll(async () => {
    dataSource = await initializeDataSource(createTestDataSource(url, schema, 'crash-test'));
    publisher = await connectTestBus(brokers, prefix, CLIENT_ID);
    await probe.start();
  });

  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });

  afterAll(async () => {
    await probe.stop();
    await publisher.disconnect();
    await dataSource.destroy();
    await dropSchema(url, schema);
  });

  it('publishes messages committed by a process killed before any relay ran, each exactly once', async () => {
    const workflows = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const child = spawnScript('libs/persistence/src/testing/crash-after-commit.script.ts', [url, schema, ...workflows]);
    let committed: { orderId: string; ids: string[] };
    try {
      committed = JSON.parse((await child.line(/^COMMITTED /)).slice('COMMITTED '.length)) as typeof committed;
    } finally {
      await child.kill();
    }
    expect(await countRows(dataSource, 'test_orders', 'id = $1', [committed.orderId])).toBe(1);
    expect(await unpublished(committed.ids)).toBe(4);
    expect(received(committed.ids)).toEqual([]);

    const relay = new OutboxRelay(dataSource, publisher, { logger: quietLogger });
    relays.push(relay);
    relay.start();

    await eventually('all committed messages on Kafka', async () => (new Set(received(committed.ids)).size === 4 ? true : undefined));
    await eventually('rows marked published', async () => ((await unpublished(committed.ids)) === 0 ? true : undefined));
    expect(received(committed.ids).sort()).toEqual([...committed.ids].sort());
  });

  it('republishes after a relay died between publish and mark, in seq order per key; the inbox absorbs the duplicates', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const outbox = new Outbox();
    const make = (key: string, n: number): Completed =>
      createEnvelope(workflowCompleted, { workflowId: key, output: n }, { source: 'crash-test', correlationId: key });
    const envelopes = [make(a, 1), make(b, 1), make(a, 2), make(b, 2), make(a, 3), make(b, 3)];
    for (const pair of [envelopes.slice(0, 2), envelopes.slice(2, 4), envelopes.slice(4)]) {
      await dataSource.transaction(async (manager) => {
        for (const envelope of pair) await outbox.enqueue(manager, workflowCompleted, envelope);
      });
    }
    const ids = envelopes.map((envelope) => envelope.id);

    const child = spawnScript('libs/persistence/src/testing/crash-after-publish.script.ts', [url, schema, brokersEnv, prefix]);
    try {
      await child.line(/^PUBLISHED 6$/);
      await eventually('the first delivery on Kafka', async () => (received(ids).length === 6 ? true : undefined));
      // The child is stuck after publishing: nothing is marked, and its lock keeps any other relay out.
      expect(await unpublished(ids)).toBe(6);
      const standby = new OutboxRelay(dataSource, publisher, { pollIntervalMs: 50, logger: quietLogger });
      relays.push(standby);
      standby.start();
    } finally {
      await child.kill();
    }

    await eventually('the takeover relay to republish and mark', async () =>
      received(ids).length === 12 && (await unpublished(ids)) === 0 ? true : undefined,
    );
    for (const key of [a, b]) {
      const inSeqOrder = envelopes.filter((envelope) => envelope.payload.workflowId === key).map((envelope) => envelope.id);
      const arrived = probe.received.filter((message) => message.key === key).map((message) => message.envelopeId);
      expect(arrived).toEqual([...inSeqOrder, ...inSeqOrder]);
    }

    // Consumer side: every delivery goes through the inbox; only first deliveries have an effect.
    const inbox = new Inbox();
    const outcomes: boolean[] = [];
    for (const message of probe.received.filter((candidate) => ids.includes(candidate.envelopeId))) {
      const outcome = await inbox.handleOnce(dataSource, 'crash-consumer', { id: message.envelopeId }, (manager) =>
        insertEffect(manager, message.envelopeId, 'crash-consumer', message.key),
      );
      outcomes.push(outcome.handled);
    }
    expect(outcomes.filter(Boolean)).toHaveLength(6);
    expect(outcomes.filter((handled) => !handled)).toHaveLength(6);
    expect(await countRows(dataSource, 'test_effects', 'consumer = $1', ['crash-consumer'])).toBe(6);
  });
});
