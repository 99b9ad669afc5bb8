import type { Consumer, EachBatchPayload } from 'kafkajs';
import { TOPICS, agentHeartbeat, createEnvelope, serializeEnvelope, withPayloadRef } from '@baton/contracts';
import { startTelemetry } from '@baton/telemetry';
import { OnDemandMetricReader } from '@baton/telemetry/testing';
import { type RetryConfig, resolveBusConfig } from './bus-config';
import type { BusStats, ConsumedMessage } from './bus-types';
import { type DeadLetterRecord, KafkaSubscription } from './kafka-subscription';
import { HEADERS } from './message-headers';

type Offsets = Array<{ topic: string; partition: number; offset: string }>;

type BatchEnd = (event: { payload: { topic: string; partition: number; offsetLag: string } }) => void;

const heartbeat = () =>
  createEnvelope(
    agentHeartbeat,
    {
      agentId: 'a1',
      instanceId: 'i1',
      team: 't',
      capabilities: ['c'],
      scopes: [],
      models: ['m'],
      maxConcurrency: 1,
      inFlight: 0,
      startedAt: new Date(0).toISOString(),
    },
    { source: 'spec', correlationId: 'heartbeat:a1', agentId: 'a1' },
  );

/**
 * kafkajs's consumer as far as KafkaSubscription uses it: `run` hands over the batch callback, every
 * commitOffsets call waits until the test answers it, as a slow group coordinator would, and `endBatch`
 * emits the instrumentation event kafkajs sends when a fetched batch is done.
 */
function fakeConsumer() {
  const commits: Array<{ offsets: Offsets; answer: (error?: Error) => void }> = [];
  const events: string[] = [];
  const batchEnds: BatchEnd[] = [];
  let eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  const consumer = {
    events: { END_BATCH_PROCESS: 'consumer.end_batch_process' },
    on: (event: string, listener: BatchEnd) => {
      if (event === 'consumer.end_batch_process') batchEnds.push(listener);
      return () => undefined;
    },
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => {
      eachBatch = options.eachBatch;
    },
    commitOffsets: (offsets: Offsets) =>
      new Promise<void>((resolve, reject) => {
        events.push(`commit ${offsets.map((o) => `${o.partition}@${o.offset}`).join(',')}`);
        commits.push({ offsets, answer: (error) => (error ? reject(error) : resolve()) });
      }),
    disconnect: async () => {
      events.push('disconnected');
    },
  } as unknown as Consumer;
  /** Valid heartbeats at `offsets`, or `value` as it is (garbage, say), for every offset or those it returns one for. */
  const deliver = (partition: number, offsets: number[], value?: Buffer | ((offset: number) => Buffer | undefined)): Promise<void> => {
    if (!eachBatch) throw new Error('the subscription has not started');
    const messages = offsets.map((offset) => {
      const given = typeof value === 'function' ? value(offset) : value;
      return { offset: String(offset), key: Buffer.from('a1'), value: given ?? serializeEnvelope(heartbeat()), headers: {} };
    });
    return eachBatch({
      batch: { topic: TOPICS.agentHeartbeats, partition, messages },
      heartbeat: async () => undefined,
    } as unknown as EachBatchPayload);
  };
  const endBatch = (partition: number, offsetLag: number): void => {
    for (const listener of batchEnds) listener({ payload: { topic: TOPICS.agentHeartbeats, partition, offsetLag: String(offsetLag) } });
  };
  return { consumer, commits, events, deliver, endBatch };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface StartOptions {
  warnings?: string[];
  deadLetters?: DeadLetterRecord[];
  retry?: RetryConfig;
  /** The per-message handler (a failed batch falls back to it); by default it records the message in `handled` as the batch handler does. */
  handle?: (message: ConsumedMessage, subscription: KafkaSubscription) => Promise<void>;
  /** Makes the batch handler throw this, so every batch is handled message by message. */
  batchFails?: Error;
}

async function started(consumer: Consumer, handled: string[], options: StartOptions = {}): Promise<KafkaSubscription> {
  const { warnings = [], deadLetters = [] } = options;
  const stats: BusStats = { published: 0, consumed: 0, handled: 0, retried: 0, deadLettered: 0 };
  const record = async (messages: readonly ConsumedMessage[]): Promise<void> => {
    handled.push(...messages.map((m) => `${m.partition}@${m.offset}`));
  };
  const subscription: KafkaSubscription = new KafkaSubscription(
    'spec-group',
    [TOPICS.agentHeartbeats],
    (message) => (options.handle === undefined ? record([message]) : options.handle(message, subscription)),
    {
      consumer,
      config: resolveBusConfig({
        brokers: ['127.0.0.1:9092'],
        clientId: 'spec',
        ...(options.retry === undefined ? {} : { retry: options.retry }),
        logger: {
          info: () => undefined,
          warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
          error: () => undefined,
        },
      }),
      stats,
      sendDeadLetter: async (deadLetter) => {
        deadLetters.push(deadLetter);
      },
      onClosed: () => undefined,
    },
    async (messages) => {
      if (options.batchFails !== undefined) throw options.batchFails;
      await record(messages);
    },
  );
  await subscription.start({ fromBeginning: false, partitionsConsumedConcurrently: 1 });
  return subscription;
}

describe('KafkaSubscription offset commits', () => {
  it('returns to kafkajs (which then fetches again) while the handled batch is still being committed', async () => {
    const { consumer, commits, deliver } = fakeConsumer();
    const handled: string[] = [];
    await started(consumer, handled);
    let returned = false;
    const first = deliver(0, [0, 1]).then(() => {
      returned = true;
    });
    await tick();
    expect(handled).toEqual(['0@0', '0@1']);
    expect(commits.map((c) => c.offsets)).toEqual([[{ topic: TOPICS.agentHeartbeats, partition: 0, offset: '2' }]]);
    expect(returned).toBe(true);
    await deliver(0, [2]);
    expect(handled).toEqual(['0@0', '0@1', '0@2']);
    commits[0]?.answer();
    await first;
  });

  it('commits what was handled meanwhile in one request after the one in flight, the latest offset per partition', async () => {
    const { consumer, commits, deliver } = fakeConsumer();
    await started(consumer, []);
    await deliver(0, [0]);
    await deliver(0, [1, 2]);
    await deliver(1, [7]);
    await deliver(0, [3]);
    expect(commits).toHaveLength(1);
    commits[0]?.answer();
    await tick();
    expect(commits).toHaveLength(2);
    expect(commits[1]?.offsets).toEqual([
      { topic: TOPICS.agentHeartbeats, partition: 0, offset: '4' },
      { topic: TOPICS.agentHeartbeats, partition: 1, offset: '8' },
    ]);
    commits[1]?.answer();
    await tick();
    expect(commits).toHaveLength(2);
  });

  it('goes on committing after a failed commit (a rebalance: the next owner redelivers)', async () => {
    const { consumer, commits, deliver } = fakeConsumer();
    const warnings: string[] = [];
    await started(consumer, [], { warnings });
    await deliver(0, [0]);
    await deliver(0, [1]);
    commits[0]?.answer(new Error('The coordinator is not aware of this member'));
    await tick();
    expect(warnings).toEqual([
      `offset commit failed ${JSON.stringify({ offsets: `${TOPICS.agentHeartbeats}[0]@1`, error: 'The coordinator is not aware of this member' })}`,
    ]);
    expect(commits[1]?.offsets).toEqual([{ topic: TOPICS.agentHeartbeats, partition: 0, offset: '2' }]);
    commits[1]?.answer();
  });

  it('disconnects on close only once the commit in flight and those queued behind it are done', async () => {
    const { consumer, commits, events, deliver } = fakeConsumer();
    const subscription = await started(consumer, []);
    await deliver(0, [0]);
    await deliver(0, [1]);
    const closed = subscription.close();
    await tick();
    expect(events).toEqual(['commit 0@1']);
    commits[0]?.answer();
    await tick();
    expect(events).toEqual(['commit 0@1', 'commit 0@2']);
    commits[1]?.answer();
    await closed;
    expect(events).toEqual(['commit 0@1', 'commit 0@2', 'disconnected']);
  });
});

describe('KafkaSubscription metrics', () => {
  const reader = new OnDemandMetricReader();
  const telemetry = startTelemetry({ serviceName: 'spec-bus-metrics', metricReaders: [reader] });
  afterAll(() => telemetry.shutdown());

  const points = (name: string) => reader.points(name);

  it('reports the latest lag of each partition', async () => {
    const { consumer, commits, endBatch } = fakeConsumer();
    const subscription = await started(consumer, []);
    endBatch(0, 40);
    endBatch(1, 3);
    endBatch(0, 12);
    const partition = (id: string) => ({
      'messaging.consumer.group.name': 'spec-group',
      'messaging.destination.name': TOPICS.agentHeartbeats,
      'messaging.destination.partition.id': id,
    });
    expect(await points('baton.consumer.lag')).toEqual(
      expect.arrayContaining([
        { attributes: partition('0'), value: 12 },
        { attributes: partition('1'), value: 3 },
      ]),
    );
    const closed = subscription.close();
    for (const commit of commits) commit.answer();
    await closed;
  });

  it('counts dead-lettered messages by group and topic', async () => {
    const { consumer, commits, deliver } = fakeConsumer();
    const subscription = await started(consumer, []);
    await deliver(0, [0, 1], Buffer.from('not json'));
    expect(await points('baton.consumer.dead_lettered')).toEqual([
      { attributes: { 'messaging.consumer.group.name': 'spec-group', 'messaging.destination.name': TOPICS.agentHeartbeats }, value: 2 },
    ]);
    const closed = subscription.close();
    for (const commit of commits) commit.answer();
    await closed;
  });
});

/** Answers every commit, those the answers let through included, until `closed` settles. */
async function answerCommitsUntil(commits: ReturnType<typeof fakeConsumer>['commits'], closed: Promise<void>): Promise<void> {
  let done = false;
  void closed.then(() => {
    done = true;
  });
  for (let answered = 0; !done; await tick()) {
    for (; answered < commits.length; answered += 1) commits[answered]?.answer();
  }
  await closed;
}

describe('KafkaSubscription with a failing batch handler', () => {
  const committed = (commits: ReturnType<typeof fakeConsumer>['commits']) =>
    commits.flatMap((c) => c.offsets.map((o) => `${o.partition}@${o.offset}`));

  it("does not commit past a message left mid-retry by close(), the batch's last one", async () => {
    const { consumer, commits, deliver } = fakeConsumer();
    const handled: string[] = [];
    const deadLetters: DeadLetterRecord[] = [];
    let closed: Promise<void> | undefined;
    await started(consumer, handled, {
      deadLetters,
      batchFails: new Error('batch failed'),
      retry: { maxAttempts: 5, initialBackoffMs: 1000, maxBackoffMs: 1000 },
      handle: async (message, subscription) => {
        if (message.offset === '0') {
          handled.push(`${message.partition}@${message.offset}`);
          return;
        }
        closed = subscription.close();
        throw new Error('store briefly down');
      },
    });
    await deliver(0, [0, 1]);
    if (closed === undefined) throw new Error('offset 1 never reached the per-message handler');
    await answerCommitsUntil(commits, closed);
    expect(handled).toEqual(['0@0']);
    expect(deadLetters).toEqual([]);
    expect(committed(commits)).toEqual(['0@1']);
  });

  it('still commits past the invalid messages at the end of a batch handled message by message', async () => {
    const { consumer, commits, deliver } = fakeConsumer();
    const handled: string[] = [];
    const deadLetters: DeadLetterRecord[] = [];
    const subscription = await started(consumer, handled, { deadLetters, batchFails: new Error('batch failed') });
    await deliver(0, [0, 1], (offset) => (offset === 1 ? Buffer.from('not json') : undefined));
    await answerCommitsUntil(commits, subscription.close());
    expect(handled).toEqual(['0@0']);
    expect(deadLetters.map((d) => d.headers[HEADERS.dlqSourceOffset])).toEqual(['1']);
    expect(committed(commits)).toEqual(['0@1', '0@2']);
  });
});

describe('KafkaSubscription batches with a claim check', () => {
  const claimChecked = () =>
    JSON.stringify(
      withPayloadRef(heartbeat(), {
        version: 1,
        store: 'postgres',
        id: '00000000-0000-4000-8000-000000000000',
        bytes: 2,
        sha256: 'a'.repeat(64),
      }),
    );

  // Valid JSON for the same envelope, as other JSON printers (or escaping ones) may write it.
  it.each([
    ['as JSON.stringify writes it', claimChecked()],
    ['with a space before the colon', claimChecked().replace('"payloadRef":', '"payloadRef" :')],
    ['with its key escaped', claimChecked().replace('"payloadRef":', '"payload\\u0052ef":')],
  ])('hands a claim-checked envelope (%s) to the per-message path, which dead-letters it without a claim store', async (_, json) => {
    expect((JSON.parse(json) as { payloadRef?: unknown }).payloadRef).toBeDefined();
    const { consumer, commits, deliver } = fakeConsumer();
    const handled: string[] = [];
    const deadLetters: DeadLetterRecord[] = [];
    const subscription = await started(consumer, handled, { deadLetters });
    await deliver(0, [0, 1, 2], (offset) => (offset === 1 ? Buffer.from(json) : undefined));
    await answerCommitsUntil(commits, subscription.close());
    expect(handled).toEqual(['0@0', '0@2']);
    expect(deadLetters.map((d) => [d.headers[HEADERS.dlqSourceOffset], d.headers[HEADERS.dlqReason]])).toEqual([
      ['1', expect.stringContaining('no claim store configured')],
    ]);
    expect(commits.at(-1)?.offsets).toEqual([{ topic: TOPICS.agentHeartbeats, partition: 0, offset: '3' }]);
  });
});
