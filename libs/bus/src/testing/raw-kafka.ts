// Plain kafkajs for tests that must step around the bus: producing bytes the bus
// would refuse to send, and reading records (dead letters) it would refuse to parse.
import { randomUUID } from 'node:crypto';
import { Kafka, type KafkaMessage, type Producer, logLevel } from 'kafkajs';
import { decodeHeaders } from '../core/message-headers';

export interface RawOutgoing {
  key: string | null;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Empty for a tombstone. */
  value: Buffer;
  headers: Record<string, string>;
}

function toRawMessage(topic: string, partition: number, message: KafkaMessage): RawMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value ?? Buffer.alloc(0),
    headers: decodeHeaders(message.headers),
  };
}

export class RawKafka {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;

  constructor(brokers: string[]) {
    this.kafka = new Kafka({
      clientId: `raw-${randomUUID().slice(0, 8)}`,
      brokers,
      logLevel: logLevel.NOTHING,
    });
  }

  /** Sends records as they are to a physical topic (no prefix, no validation). */
  async produce(topic: string, messages: readonly RawOutgoing[]): Promise<void> {
    if (this.producer === undefined) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
      await this.producer.connect();
    }
    await this.producer.send({
      topic,
      acks: -1,
      messages: messages.map((message) => ({
        key: message.key,
        value: message.value,
        headers: { ...message.headers },
      })),
    });
  }

  /**
   * Reads `topic` from the beginning with a throw-away group until `done`
   * accepts what was read; rejects after `timeoutMs`.
   */
  async readUntil(topic: string, done: (messages: RawMessage[]) => boolean, timeoutMs = 30_000): Promise<RawMessage[]> {
    const consumer = this.kafka.consumer({
      groupId: `raw-reader-${randomUUID()}`,
      allowAutoTopicCreation: false,
    });
    const messages: RawMessage[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          messages.push(toRawMessage(topic, partition, message));
        },
      });
      const deadline = Date.now() + timeoutMs;
      while (!done(messages)) {
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms reading ${topic} (${messages.length} records read)`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return [...messages];
    } finally {
      await consumer.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}
