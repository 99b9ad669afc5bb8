import type { Admin, Message, Producer } from 'kafkajs';
import type { BusLogger } from './bus-logger';

/**
 * Sends replies through a producer of their own. A reply topic goes away with
 * its requester (ReplyInbox deletes it on close), and kafkajs refreshes the
 * metadata of every topic a producer ever sent to: one deleted topic fails all
 * that producer's later sends (kafkajs#1622). Apart from the bus's producer, a
 * gone requester cannot stop the bus publishing; and this producer is replaced
 * after a failed send, which forgets the gone topics.
 */
export class ReplySender {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    private readonly createProducer: () => Producer,
    private readonly admin: Admin,
    private readonly logger: BusLogger,
  ) {}

  /** Resolves once sent, or once it is clear the requester's topic is gone (nobody waits for the reply then). */
  async send(topic: string, message: Message): Promise<'sent' | 'requester-gone'> {
    try {
      await this.sendOnce(topic, message);
      return 'sent';
    } catch (error) {
      await this.replace();
      try {
        await this.sendOnce(topic, message);
        return 'sent';
      } catch (again) {
        if ((await this.admin.listTopics()).includes(topic)) throw again;
        this.logger.warn('reply dropped: the requester is gone with its reply topic', { topic, error: String(error) });
        // The failed send left the topic in this producer's metadata: start the next reply on a clean one.
        await this.replace();
        return 'requester-gone';
      }
    }
  }

  async close(): Promise<void> {
    await this.replace();
  }

  private async sendOnce(topic: string, message: Message): Promise<void> {
    this.connecting ??= (async () => {
      const producer = this.createProducer();
      await producer.connect();
      this.producer = producer;
      return producer;
    })().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    await (await this.connecting).send({ topic, acks: -1, messages: [message] });
  }

  private async replace(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await producer?.disconnect().catch(() => undefined);
  }
}
