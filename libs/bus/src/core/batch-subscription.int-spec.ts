import { randomUUID } from 'node:crypto';
import { TOPICS, dlqTopic, serializeEnvelope } from '@baton/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { RawKafka } from '../testing/raw-kafka';
import {
  capturingLogger,
  committedOffsets,
  eventually,
  readTopic,
  taskCompletedEnvelope,
  uniquePrefix,
} from '../testing/bus-test-kit';
import { NonRetryableError } from './errors';
import { KafkaBus } from './kafka-bus';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter((broker) => broker !== '');
const prefix = uniquePrefix();
const bus = new KafkaBus({
  brokers,
  clientId: 'batch-int',
  topicPrefix: prefix,
  retry: { maxAttempts: 2, initialBackoffMs: 20, maxBackoffMs: 50 },
  logger: capturingLogger(),
});
const raw = new RawKafka(brokers);

async function topicEnds(topic: string): Promise<Map<number, string>> {
  const admin = new Kafka({ clientId: 'batch-int-ends', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, high]));
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  await bus.connect();
  await bus.ensureTopics([TOPICS.tasksResults]);
});

afterAll(async () => {
  await bus.disconnect();
  await raw.close();
});

describe('KafkaBus.subscribeBatch', () => {
  it('hands fetched batches over at once, dead-letters invalid envelopes, falls back per message on failure, commits all', async () => {
    const workflowId = randomUUID();
    const topic = `${prefix}${TOPICS.tasksResults}`;
    const valid = Array.from({ length: 40 }, () => taskCompletedEnvelope({ workflowId }));
    const poison = taskCompletedEnvelope({ workflowId, stepId: 'poison' });
    // One partition (same key), all produced before the consumer starts, so they arrive as few, large batches.
    await raw.produce(topic, [
      ...valid.slice(0, 20).map((envelope) => ({ key: workflowId, value: serializeEnvelope(envelope) })),
      { key: workflowId, value: 'not an envelope' },
      { key: workflowId, value: serializeEnvelope(poison) },
      ...valid.slice(20).map((envelope) => ({ key: workflowId, value: serializeEnvelope(envelope) })),
    ]);
    const batches: number[] = [];
    const handled = new Set<string>();
    const groupId = `batch-${randomUUID()}`;
    await bus.subscribeBatch({
      groupId,
      topics: [TOPICS.tasksResults],
      batchHandler: async (messages) => {
        batches.push(messages.length);
        if (messages.some((message) => message.envelope.id === poison.id)) {
          throw new Error('batch contains poison');
        }
        for (const message of messages) handled.add(message.envelope.id);
      },
      handler: async (message) => {
        if (message.envelope.id === poison.id) throw new NonRetryableError('poison');
        handled.add(message.envelope.id);
      },
    });
    await eventually(() => (valid.every((envelope) => handled.has(envelope.id)) ? true : undefined));
    expect(handled.has(poison.id)).toBe(false);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    const dead = await readTopic(brokers, `${prefix}${dlqTopic(TOPICS.tasksResults)}`, 2);
    expect(dead.map((record) => record.value.toString('utf8')).sort()).toEqual(
      [serializeEnvelope(poison).toString('utf8'), 'not an envelope'].sort(),
    );
    await eventually(async () => {
      const offsets = await committedOffsets(brokers, `${prefix}${groupId}`, topic);
      const committed = [...offsets.values()].reduce((sum, offset) => sum + Math.max(0, Number(offset)), 0);
      return committed === 42 ? true : undefined;
    });
  });

  it('pipelined: fetches and hands over other partitions while a batch is held, keeps a partition in order, commits after handling', async () => {
    const topic = `${prefix}${TOPICS.tasksResults}`;
    const held = randomUUID();
    const first = Array.from({ length: 3 }, () => taskCompletedEnvelope({ workflowId: held }));
    await raw.produce(topic, first.map((envelope) => ({ key: held, value: serializeEnvelope(envelope) })));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    let heldPartition: number | undefined;
    const groupId = `pipelined-${randomUUID()}`;
    await bus.subscribeBatch({
      groupId,
      topics: [TOPICS.tasksResults],
      pipelined: true,
      batchHandler: async (messages) => {
        if (messages.some((message) => message.envelope.id === first[0]?.id)) {
          heldPartition = messages[0]?.partition;
          await released;
        }
        for (const message of messages) handled.push(message.envelope.id);
      },
      handler: async (message) => {
        handled.push(message.envelope.id);
      },
    });
    await eventually(() => heldPartition);
    // Later records of the held partition, and of (with 12 keys over 6 partitions, almost surely) others.
    const second = Array.from({ length: 3 }, () => taskCompletedEnvelope({ workflowId: held }));
    const others = Array.from({ length: 12 }, () => taskCompletedEnvelope());
    await raw.produce(topic, [
      ...second.map((envelope) => ({ key: held, value: serializeEnvelope(envelope) })),
      ...others.map((envelope) => ({ key: envelope.payload.workflowId, value: serializeEnvelope(envelope) })),
    ]);
    // Without pipelining kafkajs would not fetch again until the held batch returned.
    await eventually(() => (handled.length > 0 ? true : undefined), 15_000, 'another partition handled while one is held');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(handled.filter((id) => first.some((e) => e.id === id) || second.some((e) => e.id === id))).toEqual([]);
    const whileHeld = await committedOffsets(brokers, `${prefix}${groupId}`, topic);
    expect(Number(whileHeld.get(heldPartition ?? -1) ?? -1)).toBeLessThanOrEqual(0);
    release();
    const all = [...first, ...second, ...others];
    const ends = await topicEnds(topic);
    await eventually(() => (all.every((envelope) => handled.includes(envelope.id)) ? true : undefined));
    const order = handled.filter((id) => first.some((e) => e.id === id) || second.some((e) => e.id === id));
    expect(order).toEqual([...first, ...second].map((envelope) => envelope.id));
    await eventually(async () => {
      const offsets = await committedOffsets(brokers, `${prefix}${groupId}`, topic);
      // The topic's end offsets: the other test's records are on it too, and this group read them from the start.
      const behind = [...ends].filter(([partition, end]) => Math.max(0, Number(offsets.get(partition) ?? -1)) !== Number(end));
      return behind.length === 0 ? true : undefined;
    });
  });
});
