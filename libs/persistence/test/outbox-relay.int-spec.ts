import { randomBytes, randomUUID } from 'node:crypto';
import type { KafkaBus } from '@baton/bus';
import type { DataSource } from 'typeorm';
import { createEnvelope, type Envelope, type PayloadOf, serializeEnvelope, TOPICS, workflowCompleted } from '@baton/contracts';
import { startTelemetry, type TelemetryHandle, withSpan } from '@baton/telemetry';
import {
  initializeDataSource,
  Outbox,
  OutboxMessage,
  type OutboxPublisher,
  type OutboxRecord,
  OutboxRelay,
  PersistenceUsageError,
  queued,
} from '../src/index';
import { eventually } from '../src/testing/eventually';
import { KafkaProbe, testKafka } from '../src/testing/kafka-probe';
import { connectTestBus } from '../src/testing/test-bus';
import { countRows, createTestDataSource, insertOrder } from '../src/testing/test-orders';
import { dropSchema, uniqueSchema } from '../src/testing/test-schema';

const url = process.env['DATABASE_URL'] ?? '';
const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');
const CLIENT_ID = 'persistence-outbox-test';
const HOUR = 3_600_000;
const quietLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

type Completed = Envelope<PayloadOf<typeof workflowCompleted>>;

function completed(workflowId: string, output: Completed['payload']['output'] = null): Completed {
  return createEnvelope(workflowCompleted, { workflowId, output }, { source: 'outbox-test', correlationId: workflowId });
}

/** A publisher whose broker is "down" until told otherwise; records every batch it was offered. */
class SwitchablePublisher implements OutboxPublisher {
  down = true;
  readonly offered: string[][] = [];

  constructor(private readonly inner: OutboxPublisher) {}

  async publishRecords(records: readonly OutboxRecord[]): Promise<void> {
    this.offered.push(records.map((record) => record.key));
    if (this.down) throw new Error('broker unavailable');
    await this.inner.publishRecords(records);
  }
}

/** A publisher that holds every batch while closed, to catch a relay mid-publish. */
class GatedPublisher implements OutboxPublisher {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  waiting = 0;

  constructor(private readonly inner: OutboxPublisher) {}

  close(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  reopen(): void {
    this.open?.();
    this.gate = undefined;
  }

  async publishRecords(records: readonly OutboxRecord[]): Promise<void> {
    if (this.gate) {
      this.waiting += 1;
      await this.gate;
    }
    await this.inner.publishRecords(records);
  }
}

describe('Outbox and OutboxRelay on real Postgres and Kafka', () => {
  const schema = uniqueSchema('outbox');
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const kafka = testKafka(brokers, CLIENT_ID);
  let publisher: KafkaBus;
  const probe = new KafkaProbe(kafka, `${prefix}${TOPICS.workflowEvents}`, `probe-${prefix}`);
  const outbox = new Outbox();
  const relays: OutboxRelay[] = [];
  const extraSources: DataSource[] = [];
  let dataSource: DataSource;
  let telemetry: TelemetryHandle;

  function relay(
    options: ConstructorParameters<typeof OutboxRelay>[2] = {},
    via: OutboxPublisher = publisher,
    applicationName?: string,
  ): OutboxRelay {
    let source = dataSource;
    if (applicationName !== undefined) {
      source = createTestDataSource(url, schema, applicationName);
      extraSources.push(source);
    }
    const created = new OutboxRelay(source, via, { logger: quietLogger, ...options });
    relays.push(created);
    return created;
  }

  async function enqueueAll(envelopes: readonly Completed[]): Promise<void> {
    await dataSource.transaction(async (manager) => {
      for (const envelope of envelopes) await outbox.enqueue(manager, workflowCompleted, envelope);
    });
  }

  async function row(id: string): Promise<OutboxMessage> {
    return dataSource.getRepository(OutboxMessage).findOneByOrFail({ id });
  }

  const unpublished = (): Promise<number> => countRows(dataSource, 'outbox_messages', 'published_at IS NULL');
  const received = (ids: readonly string[]): string[] => probe.ids().filter((id) => ids.includes(id));

  /** Last statement of a relay's session; an idle SELECT means it read an empty backlog and sleeps. */
  async function relaySession(applicationName: string): Promise<{ state: string; query: string } | undefined> {
    const rows: { state: string; query: string }[] = await dataSource.query(
      'SELECT state, query FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return rows[0];
  }

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'persistence-int-test' });
    dataSource = await initializeDataSource(createTestDataSource(url, schema, 'outbox-test'));
    publisher = await connectTestBus(brokers, prefix, CLIENT_ID);
    await probe.start();
  });

  afterEach(async () => {
    for (const created of relays.splice(0)) await created.stop();
  });

  afterAll(async () => {
    await probe.stop();
    await publisher.disconnect();
    for (const source of extraSources) if (source.isInitialized) await source.destroy();
    await dataSource.destroy();
    await dropSchema(url, schema);
    await telemetry.shutdown();
  });

  it('stores the exact bytes, key, logical topic and type headers together with the state change', async () => {
    const envelope = completed(randomUUID(), { answer: 42 });
    const orderId = randomUUID();
    await dataSource.transaction(async (manager) => {
      await insertOrder(manager, orderId, 'state change');
      await outbox.enqueue(manager, workflowCompleted, envelope);
    });

    const stored = await row(envelope.id);
    expect(stored.value.equals(serializeEnvelope(envelope))).toBe(true);
    expect(stored.messageKey).toBe(envelope.payload.workflowId);
    expect(stored.topic).toBe(TOPICS.workflowEvents);
    expect(stored.headers).toMatchObject({ 'baton-type': 'workflow.completed', 'baton-version': '1' });
    expect(stored.publishedAt).toBeNull();
    expect(await countRows(dataSource, 'test_orders', 'id = $1', [orderId])).toBe(1);
  });

  it('enqueues many messages in one call in the given order, and none of them when one does not match its contract', async () => {
    const workflowId = randomUUID();
    const envelopes = [completed(workflowId, 1), completed(workflowId, 2), completed(workflowId, 3)];
    await dataSource.transaction(async (manager) => {
      await outbox.enqueueMany(
        manager,
        envelopes.map((envelope) => queued(workflowCompleted, envelope)),
      );
    });
    const rows = await dataSource.getRepository(OutboxMessage).find({ where: { messageKey: workflowId }, order: { seq: 'ASC' } });
    expect(rows.map((stored) => stored.id)).toEqual(envelopes.map((envelope) => envelope.id));

    const mismatched = { ...completed(workflowId, 4), version: 99 };
    const good = completed(workflowId, 5);
    await expect(
      dataSource.transaction((manager) =>
        outbox.enqueueMany(
          manager,
          [good, mismatched].map((envelope) => queued(workflowCompleted, envelope)),
        ),
      ),
    ).rejects.toThrow(PersistenceUsageError);
    expect(await countRows(dataSource, 'outbox_messages', 'id = $1', [good.id])).toBe(0);
  });

  it('leaves no message behind when the caller rolls back: state and message commit together or not at all', async () => {
    const envelope = completed(randomUUID());
    const orderId = randomUUID();

    await expect(
      dataSource.transaction(async (manager) => {
        await insertOrder(manager, orderId, 'never happened');
        await outbox.enqueue(manager, workflowCompleted, envelope);
        throw new Error('business rule violated');
      }),
    ).rejects.toThrow('business rule violated');

    expect(await countRows(dataSource, 'outbox_messages', 'id = $1', [envelope.id])).toBe(0);
    expect(await countRows(dataSource, 'test_orders', 'id = $1', [orderId])).toBe(0);
  });

  it('refuses to enqueue outside a transaction', async () => {
    await expect(outbox.enqueue(dataSource.manager, workflowCompleted, completed(randomUUID()))).rejects.toThrow(PersistenceUsageError);
  });

  it('wakes on NOTIFY at commit, publishes in seq order per key with the enqueuing trace, and marks rows published', async () => {
    const name = 'notify-relay';
    const notified = relay({ pollIntervalMs: HOUR }, publisher, name);
    notified.start();
    // Drain what earlier tests left, then wait until the relay sleeps on an empty read: with an
    // hour-long poll interval only the NOTIFY of the next commit can wake it.
    await eventually('the relay to drain and go idle', async () => {
      const session = await relaySession(`${name}-outbox-relay`);
      const idle = session?.state === 'idle' && session.query.trimStart().startsWith('SELECT seq');
      return idle && (await unpublished()) === 0 ? true : undefined;
    });

    const [a, b] = [randomUUID(), randomUUID()];
    const envelopes = [completed(a, 1), completed(b, 1), completed(a, 2), completed(a, 3), completed(b, 2), completed(b, 3)];
    const traceId = await withSpan('enqueue-in-a-span', {}, async (span) => {
      await enqueueAll(envelopes.slice(0, 3));
      await enqueueAll(envelopes.slice(3));
      return span.spanContext().traceId;
    });
    const ids = envelopes.map((envelope) => envelope.id);

    await eventually('all six on Kafka', async () => (received(ids).length === 6 ? true : undefined));
    for (const key of [a, b]) {
      const inSeqOrder = envelopes.filter((envelope) => envelope.payload.workflowId === key).map((envelope) => envelope.id);
      const arrived = probe.received.filter((message) => message.key === key).map((message) => message.envelopeId);
      expect(arrived).toEqual(inSeqOrder);
    }
    for (const message of probe.received.filter((candidate) => ids.includes(candidate.envelopeId))) {
      expect(message.headers['traceparent']).toContain(traceId);
      expect(message.headers['baton-type']).toBe('workflow.completed');
    }
    for (const id of ids) {
      const stored = await row(id);
      expect(stored.publishedAt).toBeInstanceOf(Date);
      expect(stored.attempts).toBe(1);
    }
  });

  it('retries a failing publish from the same row, recording attempts and the error, and never skips', async () => {
    const switchable = new SwitchablePublisher(publisher);
    const retrying = relay({ retryBaseMs: 20, retryMaxMs: 100 }, switchable);
    const key = randomUUID();
    const envelopes = [completed(key, 1), completed(key, 2), completed(key, 3)];
    await enqueueAll(envelopes);
    retrying.start();

    const failed = await eventually('two failed attempts recorded', async () => {
      const stored = await row(envelopes[0]?.id ?? '');
      return stored.attempts >= 2 ? stored : undefined;
    });
    expect(failed.lastError).toContain('broker unavailable');
    expect(failed.publishedAt).toBeNull();
    switchable.down = false;

    const ids = envelopes.map((envelope) => envelope.id);
    await eventually('the batch on Kafka after recovery', async () => (received(ids).length === 3 ? true : undefined));
    expect(received(ids)).toEqual(ids);
    // Every attempt offered the same head of the backlog: nothing was skipped past.
    expect(new Set(switchable.offered.map((batch) => batch.join(','))).size).toBe(1);
    const published = await eventually('rows marked', async () => {
      const stored = await row(envelopes[2]?.id ?? '');
      return stored.publishedAt !== null ? stored : undefined;
    });
    expect(published.lastError).toBeNull();
    expect(published.attempts).toBe(switchable.offered.length);
  });

  it('takes rows committed through its own DataSource at commit: published in commit order without reading them back', async () => {
    const own = relay({ pollIntervalMs: HOUR });
    own.start();
    await eventually('the relay to lead and drain', async () => (own.isLeader && (await unpublished()) === 0 ? true : undefined));
    const session = (): Promise<{ state: string; query: string } | undefined> => relaySession('outbox-test-outbox-relay');
    await eventually('the relay idle after its read', async () =>
      (await session())?.query.trimStart().startsWith('SELECT seq') ? true : undefined,
    );

    const key = randomUUID();
    const [first, inRolledBackSavepoint, second, third] = [completed(key, 1), completed(key, 2), completed(key, 3), completed(key, 4)];
    await dataSource.transaction(async (manager) => {
      await outbox.enqueue(manager, workflowCompleted, first);
      await manager
        .transaction(async (inner) => {
          await outbox.enqueue(inner, workflowCompleted, inRolledBackSavepoint);
          throw new Error('savepoint rolled back');
        })
        .catch(() => undefined);
      await outbox.enqueue(manager, workflowCompleted, second);
    });
    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.enqueue(manager, workflowCompleted, completed(key, 99));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await enqueueAll([third]);

    const expected = [first.id, second.id, third.id];
    await eventually('the committed three on Kafka', async () => (received(expected).length === 3 ? true : undefined));
    expect(probe.received.filter((message) => message.key === key).map((message) => message.envelopeId)).toEqual(expected);
    await eventually('rows marked', async () => ((await unpublished()) === 0 ? true : undefined));
    // Read from the table, the rows would have left the relay idle on a SELECT; handed over, its last word is the mark.
    expect((await session())?.query.trimStart()).toMatch(/^UPDATE/);
    for (const id of expected) expect((await row(id)).attempts).toBe(1);
  });

  it('falls back to the table, in seq order, when publishing handed rows fails or falls behind: each row once', async () => {
    const switchable = new SwitchablePublisher(publisher);
    const own = relay({ batchSize: 2, retryBaseMs: 20, retryMaxMs: 50, pollIntervalMs: HOUR }, switchable);
    switchable.down = false;
    own.start();
    await eventually('the relay to lead and drain', async () => (own.isLeader && (await unpublished()) === 0 ? true : undefined));
    // Fewer transactions than the relay holds in memory (10 batches of 2), then more, each time while the broker is down.
    for (const count of [6, 30]) {
      switchable.down = true;
      const key = randomUUID();
      const envelopes = Array.from({ length: count }, (_, i) => completed(key, i));
      for (const envelope of envelopes) await enqueueAll([envelope]);
      await eventually('two failed attempts', async () => ((await row(envelopes[0]?.id ?? '')).attempts >= 2 ? true : undefined));
      switchable.down = false;

      const ids = envelopes.map((envelope) => envelope.id);
      await eventually(`all ${count} on Kafka`, async () => (received(ids).length >= count ? true : undefined));
      await eventually('rows marked', async () => ((await unpublished()) === 0 ? true : undefined));
      expect(probe.received.filter((message) => message.key === key).map((message) => message.envelopeId)).toEqual(ids);
    }
  });

  it('does not publish twice a row it read from the table before the row was handed to it', async () => {
    const own = relay({ pollIntervalMs: HOUR });
    own.start();
    await eventually('the relay to lead', async () => (own.isLeader ? true : undefined));
    // Committed elsewhere (another DataSource: no hand-off), so the relay reads it.
    const elsewhere = createTestDataSource(url, schema, 'outbox-elsewhere');
    extraSources.push(elsewhere);
    await initializeDataSource(elsewhere);
    const envelope = completed(randomUUID());
    await elsewhere.transaction((manager) => outbox.enqueue(manager, workflowCompleted, envelope));
    await eventually('published from the table', async () => (received([envelope.id]).length === 1 ? true : undefined));
    const stored = await row(envelope.id);

    expect(
      own.handOff([{ seq: String(stored.seq), topic: stored.topic, key: stored.messageKey, value: stored.value, headers: stored.headers }]),
    ).toBe(true);
    const marker = completed(randomUUID());
    await enqueueAll([marker]);
    await eventually('a later hand-off published', async () => (received([marker.id]).length === 1 ? true : undefined));
    expect(received([envelope.id])).toHaveLength(1);
  });

  it('lets one relay per schema publish; a standby takes over when the holder goes away', async () => {
    const first = relay({ pollIntervalMs: 50 }, publisher, 'relay-a');
    first.start();
    await eventually('relay a to hold the lock', async () => (first.isLeader ? true : undefined));
    const second = relay({ pollIntervalMs: 50 }, publisher, 'relay-b');
    second.start();
    await eventually('relay b to try the lock and stand by', async () => {
      const session = await relaySession('relay-b-outbox-relay');
      return session?.query.includes('pg_try_advisory_lock') ? true : undefined;
    });
    expect(second.isLeader).toBe(false);

    const beforeHandOver = completed(randomUUID());
    await enqueueAll([beforeHandOver]);
    await eventually('published by a', async () => (received([beforeHandOver.id]).length === 1 ? true : undefined));
    expect(second.isLeader).toBe(false);

    await first.stop();
    await eventually('relay b to take over', async () => (second.isLeader ? true : undefined));
    const afterHandOver = completed(randomUUID());
    await enqueueAll([afterHandOver]);
    await eventually('published by b', async () => (received([afterHandOver.id]).length === 1 ? true : undefined));
  });

  it('forgets rows handed to it when it loses the lock: back in the lead, it does not send again what another relay sent', async () => {
    const gated = new GatedPublisher(publisher);
    const first = relay({ pollIntervalMs: 50 }, gated, 'relay-c');
    first.start();
    await eventually('relay c to lead and drain', async () => (first.isLeader && (await unpublished()) === 0 ? true : undefined));
    // Committed elsewhere (no hand-off): relay c reads them from the table.
    const elsewhere = createTestDataSource(url, schema, 'outbox-elsewhere-2');
    extraSources.push(elsewhere);
    await initializeDataSource(elsewhere);
    const commitElsewhere = async (envelope: Completed): Promise<OutboxMessage> => {
      await elsewhere.transaction((manager) => outbox.enqueue(manager, workflowCompleted, envelope));
      return row(envelope.id);
    };

    // Relay c is caught publishing one row while another is handed to it.
    gated.close();
    await commitElsewhere(completed(randomUUID()));
    await eventually('relay c mid-publish', async () => (gated.waiting === 1 ? true : undefined));
    const handed = completed(randomUUID());
    const stored = await commitElsewhere(handed);
    expect(
      first.handOff([
        { seq: String(stored.seq), topic: stored.topic, key: stored.messageKey, value: stored.value, headers: stored.headers },
      ]),
    ).toBe(true);

    // Its session dies (and the lock with it); relay d takes over and publishes both rows.
    await dataSource.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'relay-c-outbox-relay'`);
    await eventually('relay c to lose the lead', async () => (first.isLeader ? undefined : true));
    const second = relay({ pollIntervalMs: 50 }, publisher, 'relay-d');
    second.start();
    await eventually('the handed row published by relay d', async () => (received([handed.id]).length === 1 ? true : undefined));
    await eventually('rows marked', async () => ((await unpublished()) === 0 ? true : undefined));

    // Relay c finishes its publish, leads again once d stops, and publishes what is new.
    gated.reopen();
    await second.stop();
    await eventually('relay c to lead again', async () => (first.isLeader ? true : undefined));
    const marker = completed(randomUUID());
    await enqueueAll([marker]);
    await eventually('a new row published by relay c', async () => (received([marker.id]).length === 1 ? true : undefined));
    expect(received([handed.id])).toHaveLength(1);
  });
});
