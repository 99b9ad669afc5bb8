import type { Admin, Consumer } from 'kafkajs';
import { resolveBusConfig } from './bus-config';
import { ReplyInbox } from './reply-inbox';

/** kafkajs's admin and consumer as far as ReplyInbox uses them; the first topic creation fails as a busy broker's can. */
function fakes() {
  let creations = 0;
  const admin = {
    createTopics: async () => {
      creations += 1;
      if (creations === 1) throw new Error('This server does not host this topic-partition');
      return true;
    },
  } as unknown as Admin;
  const consumers: string[] = [];
  const createConsumer = (groupId: string): Consumer => {
    consumers.push(groupId);
    return { connect: async () => undefined, subscribe: async () => undefined, run: async () => undefined, disconnect: async () => undefined } as unknown as Consumer;
  };
  return { admin, createConsumer, consumers, creations: () => creations };
}

describe('ReplyInbox.ensureStarted', () => {
  it('tries again on the next call after a failed start, instead of failing every later request with that error', async () => {
    const { admin, createConsumer, consumers, creations } = fakes();
    const inbox = new ReplyInbox(resolveBusConfig({ brokers: ['127.0.0.1:9092'], clientId: 'spec' }), admin, createConsumer);
    await expect(inbox.ensureStarted()).rejects.toThrow('does not host this topic-partition');
    await expect(inbox.ensureStarted()).resolves.toBeUndefined();
    await expect(inbox.ensureStarted()).resolves.toBeUndefined();
    expect(creations()).toBe(2);
    expect(consumers).toHaveLength(1);
  });
});
