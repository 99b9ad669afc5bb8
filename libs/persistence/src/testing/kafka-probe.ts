// Test-side observer of a topic: sees every record as it is on the wire
// (duplicates, partitions, headers), which a validating bus consumer would hide.
// eslint-disable-next-line no-restricted-imports -- raw test-side consumer; publishing goes through @baton/bus
import { type Consumer, Kafka, logLevel } from 'kafkajs';

export function testKafka(brokers: readonly string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING });
}

export interface ReceivedMessage {
  partition: number;
  offset: string;
  key: string;
  envelopeId: string;
  type: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** Collects everything on a topic from the beginning, in arrival order. */
export class KafkaProbe {
  readonly received: ReceivedMessage[] = [];
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupId: string,
  ) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = message.value ?? Buffer.alloc(0);
        const parsed = JSON.parse(value.toString('utf8')) as { id: string; type: string };
        const headers: Record<string, string> = {};
        for (const [name, header] of Object.entries(message.headers ?? {})) {
          if (header !== undefined) headers[name] = Array.isArray(header) ? String(header[0]) : String(header);
        }
        this.received.push({
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? '',
          envelopeId: parsed.id,
          type: parsed.type,
          value,
          headers,
        });
      },
    });
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }

  ids(): string[] {
    return this.received.map((message) => message.envelopeId);
  }
}
