import type { Admin, Consumer } from 'kafkajs';
import { resolveBusConfig } from './bus-config';
import { ReplyInbox } from './reply-inbox';

/**
 * kafkajs's admin and consumer as far as ReplyInbox uses them, answering as a busy broker does right after a topic is
 * created: the first metadata request says the partition is not hosted yet. Like kafkajs, `waitForLeaders: true` makes
 * createTopics check leaders once and give up on that answer.
 */
function fakes({ failCreate = false } = {}) {
  let creations = 0;
  let metadataCalls = 0;
  const fetchTopicMetadata = async ({ topics }: { topics: string[] }) => {
    metadataCalls += 1;
    if (metadataCalls === 1) throw new Error('This server does not host this topic-partition');
    return { topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 0 }] })) };
  };
  const admin = {
    createTopics: async ({ waitForLeaders }: { waitForLeaders?: boolean }) => {
      creations += 1;
      if (failCreate && creations === 1) throw new Error('The request timed out');
      if (waitForLeaders === true) await fetchTopicMetadata({ topics: [] });
      return true;
    },
    fetchTopicMetadata,
  } as unknown as Admin;
  const consumers: string[] = [];
  const createConsumer = (groupId: string): Consumer => {
    consumers.push(groupId);
    return {
      connect: async () => undefined,
      subscribe: async () => undefined,
      run: async () => undefined,
      disconnect: async () => undefined,
    } as unknown as Consumer;
  };
  return { admin, createConsumer, consumers, creations: () => creations };
}

const config = resolveBusConfig({ brokers: ['127.0.0.1:9092'], clientId: 'spec' });

describe('ReplyInbox.ensureStarted', () => {
  it('starts although the broker does not host the new reply topic at first (it waits for the leader itself)', async () => {
    const { admin, createConsumer, consumers } = fakes();
    const inbox = new ReplyInbox(config, admin, createConsumer);
    await expect(inbox.ensureStarted()).resolves.toBeUndefined();
    expect(consumers).toHaveLength(1);
  });

  it('tries again on the next call after a failed start, instead of failing every later request with that error', async () => {
    const { admin, createConsumer, consumers, creations } = fakes({ failCreate: true });
    const inbox = new ReplyInbox(config, admin, createConsumer);
    await expect(inbox.ensureStarted()).rejects.toThrow('The request timed out');
    await expect(inbox.ensureStarted()).resolves.toBeUndefined();
    await expect(inbox.ensureStarted()).resolves.toBeUndefined();
    expect(creations()).toBe(2);
    expect(consumers).toHaveLength(1);
  });
});
