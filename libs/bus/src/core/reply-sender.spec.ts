import type { Admin, Message, Producer } from 'kafkajs';
import { ReplySender } from './reply-sender';

/** kafkajs producers as ReplySender uses them: each created one fails its sends while `failing` says so. */
function producers(failing: (producerIndex: number) => boolean) {
  const created: Array<{ sent: string[]; disconnected: boolean }> = [];
  const create = (): Producer => {
    const index = created.length;
    const record = { sent: [] as string[], disconnected: false };
    created.push(record);
    return {
      connect: async () => undefined,
      send: async ({ topic }: { topic: string; messages: Message[] }) => {
        if (failing(index)) throw new Error(`This server does not host this topic-partition (${topic})`);
        record.sent.push(topic);
        return [];
      },
      disconnect: async () => {
        record.disconnected = true;
      },
    } as unknown as Producer;
  };
  return { created, create };
}

const admin = (topics: string[]): Admin => ({ listTopics: async () => topics }) as unknown as Admin;
const message: Message = { key: 'k', value: 'v' };

describe('ReplySender', () => {
  it('replaces a producer whose send failed and sends the reply on the new one', async () => {
    const { created, create } = producers((index) => index === 0);
    const sender = new ReplySender(create, admin(['replies.live']), { info: jest.fn(), warn: jest.fn(), error: jest.fn() });
    await expect(sender.send('replies.live', message)).resolves.toBe('sent');
    expect(created).toEqual([
      { sent: [], disconnected: true },
      { sent: ['replies.live'], disconnected: false },
    ]);
    // Later replies keep the healthy producer.
    await sender.send('replies.live', message);
    expect(created).toHaveLength(2);
  });

  it('drops a reply whose topic is gone with its requester, and starts the next reply on a clean producer', async () => {
    const { created, create } = producers((index) => index < 2);
    const warn = jest.fn();
    const sender = new ReplySender(create, admin(['replies.other']), { info: jest.fn(), warn, error: jest.fn() });
    await expect(sender.send('replies.gone', message)).resolves.toBe('requester-gone');
    expect(warn).toHaveBeenCalledWith(
      'reply dropped: the requester is gone with its reply topic',
      expect.objectContaining({ topic: 'replies.gone' }),
    );
    expect(created.map((producer) => producer.disconnected)).toEqual([true, true]);
    await expect(sender.send('replies.other', message)).resolves.toBe('sent');
    expect(created[2]?.sent).toEqual(['replies.other']);
  });

  it('fails the reply when its topic exists but sending fails anyway (the caller retries)', async () => {
    const { create } = producers(() => true);
    const sender = new ReplySender(create, admin(['replies.live']), { info: jest.fn(), warn: jest.fn(), error: jest.fn() });
    await expect(sender.send('replies.live', message)).rejects.toThrow('does not host this topic-partition');
  });
});
