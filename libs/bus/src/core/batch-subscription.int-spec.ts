import { randomUUID } from 'node:crypto';
import { TOPICS, dlqTopic, serializeEnvelope } from '@baton/contracts';
import { RawKafka } from '../testing/raw-kafka';
import { capturingLogger, committedOffsets, eventually, readTopic, taskCompletedEnvelope, uniquePrefix } from '../testing/bus-test-kit';
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
});
