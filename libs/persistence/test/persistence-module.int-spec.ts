import { randomBytes, randomUUID } from 'node:crypto';
import { KafkaBus } from '@baton/bus';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { createEnvelope, TOPICS, workflowCompleted } from '@baton/contracts';
import {
  Inbox,
  OUTBOX_PUBLISHER,
  Outbox,
  OutboxRelay,
  PersistenceConfigError,
  PersistenceHealth,
  PersistenceModule,
  type PersistenceModuleOptions,
} from '../src/index';
import { eventually } from '../src/testing/eventually';
import { KafkaProbe, testKafka } from '../src/testing/kafka-probe';
import { connectTestBus } from '../src/testing/test-bus';
import { CreateTestOrders1763942400000, countRows } from '../src/testing/test-orders';
import { dropSchema, uniqueSchema } from '../src/testing/test-schema';

const url = process.env['DATABASE_URL'] ?? '';
const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');

const CLIENT_ID = 'persistence-module-test';
const DATABASE_URL = Symbol('DATABASE_URL');

/** Stands for an app's config module: the factory's inputs come through `imports` and `inject`. */
@Module({ providers: [{ provide: DATABASE_URL, useValue: url }], exports: [DATABASE_URL] })
class TestConfigModule {}

function persistence(schema: string): ReturnType<typeof PersistenceModule.forRootAsync> {
  return PersistenceModule.forRootAsync({
    imports: [TestConfigModule],
    inject: [DATABASE_URL],
    useFactory: (databaseUrl: string): PersistenceModuleOptions => ({
      url: databaseUrl,
      schema,
      entities: [],
      migrations: [CreateTestOrders1763942400000],
      applicationName: 'persistence-module-test',
      relay: { pollIntervalMs: 200 },
    }),
  });
}

describe('PersistenceModule in a Nest application', () => {
  const schema = uniqueSchema('nest');
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const kafka = testKafka(brokers, CLIENT_ID);
  let publisher: KafkaBus;
  const probe = new KafkaProbe(kafka, `${prefix}${TOPICS.workflowEvents}`, `probe-${prefix}`);

  beforeAll(async () => {
    publisher = await connectTestBus(brokers, prefix, CLIENT_ID);
    await probe.start();
  });

  afterAll(async () => {
    await probe.stop();
    await publisher.disconnect();
    await dropSchema(url, schema);
  });

  it('migrates at init, relays through the app-bound OUTBOX_PUBLISHER, reports readiness, and stops on close', async () => {
    // The publisher is bound by the application, not imported into PersistenceModule.
    const app: TestingModule = await Test.createTestingModule({
      imports: [persistence(schema)],
      providers: [
        { provide: KafkaBus, useValue: publisher },
        { provide: OUTBOX_PUBLISHER, useExisting: KafkaBus },
      ],
    }).compile();
    await app.init();

    const dataSource = app.get(DataSource);
    const relay = app.get(OutboxRelay);
    expect(dataSource.isInitialized).toBe(true);
    expect(relay.isRunning).toBe(true);
    expect(await app.get(PersistenceHealth).isReady()).toBe(true);

    const envelope = createEnvelope(
      workflowCompleted,
      { workflowId: randomUUID(), output: 'via nest' },
      { source: 'nest-test', correlationId: 'nest' },
    );
    const outcome = await app
      .get(Inbox)
      .handleOnce(dataSource, 'nest-consumer', { id: randomUUID() }, (manager) =>
        app.get(Outbox).enqueue(manager, workflowCompleted, envelope),
      );
    expect(outcome.handled).toBe(true);
    await eventually('the message on Kafka', async () => (probe.ids().includes(envelope.id) ? true : undefined));
    await eventually('the row marked', async () =>
      (await countRows(dataSource, 'outbox_messages', 'id = $1 AND published_at IS NOT NULL', [envelope.id])) === 1 ? true : undefined,
    );

    await app.close();
    expect(relay.isRunning).toBe(false);
    expect(dataSource.isInitialized).toBe(false);
  });

  it('fails the start with a clear error when no OUTBOX_PUBLISHER is bound', async () => {
    const app = await Test.createTestingModule({ imports: [persistence(schema)] }).compile();
    const dataSource = app.get(DataSource);
    try {
      await expect(app.init()).rejects.toThrow(PersistenceConfigError);
      expect(app.get(OutboxRelay).isRunning).toBe(false);
    } finally {
      // close() would rethrow the failed init; release the pool ourselves.
      await dataSource.destroy();
    }
  });
});
