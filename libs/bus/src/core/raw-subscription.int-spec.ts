import { randomUUID } from 'node:crypto';
import { TOPICS, dlqTopic } from '@baton/contracts';
import { RawKafka } from '../testing/raw-kafka';
import { capturingLogger, eventually, readTopic, uniquePrefix } from '../testing/bus-test-kit';
import type { RawConsumedMessage } from './bus-types';
import { NonRetryableError } from './errors';
import { KafkaBus } from './kafka-bus';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter((broker) => broker !== '');
const prefix = uniquePrefix();
const bus = new KafkaBus({
  brokers,
  clientId: 'raw-int',
  topicPrefix: prefix,
  retry: { maxAttempts: 2, initialBackoffMs: 20, maxBackoffMs: 50 },
  logger: capturingLogger(),
});
const raw = new RawKafka(brokers);

beforeAll(async () => {
  await bus.connect();
  await bus.ensureTopics([TOPICS.systemEvents]);
});

afterAll(async () => {
  await bus.disconnect();
  await raw.close();
});

describe('KafkaBus.subscribeRaw', () => {
  it('hands records over undecoded and dead-letters what the handler rejects', async () => {
    const seen: RawConsumedMessage[] = [];
    await bus.subscribeRaw({
      groupId: `raw-${randomUUID()}`,
      topics: [TOPICS.systemEvents],
      handler: async (message) => {
        seen.push(message);
        if (message.value?.toString('utf8') === 'poison') throw new NonRetryableError('not a CloudEvent');
      },
    });
    const topic = `${prefix}${TOPICS.systemEvents}`;
    await raw.produce(topic, [
      { key: 'svc-1', value: 'not json at all', headers: { ce_type: 'deployment.completed' } },
      { key: 'svc-1', value: 'poison' },
    ]);
    await eventually(() => (seen.length >= 2 ? true : undefined));
    expect(seen[0]).toMatchObject({
      topic: TOPICS.systemEvents,
      key: 'svc-1',
      headers: { ce_type: 'deployment.completed' },
    });
    expect(seen[0]?.value?.toString('utf8')).toBe('not json at all');
    const [dead] = await readTopic(brokers, `${prefix}${dlqTopic(TOPICS.systemEvents)}`, 1);
    expect(dead?.value.toString('utf8')).toBe('poison');
    expect(dead?.headers['baton-dlq-reason']).toMatch(/not a CloudEvent/);
  });
});
