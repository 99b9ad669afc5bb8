import type { Message, TopicMessages } from 'kafkajs';

interface Pending {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function messageBytes(message: Message): number {
  let bytes = 0;
  if (message.value) bytes += typeof message.value === 'string' ? Buffer.byteLength(message.value) : message.value.length;
  if (message.key) bytes += typeof message.key === 'string' ? Buffer.byteLength(message.key) : message.key.length;
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += name.length + (typeof value === 'string' ? Buffer.byteLength(value) : Buffer.isBuffer(value) ? value.length : 0);
  }
  return bytes;
}

/**
 * Coalesces concurrent sends into one produce request. The idempotent
 * producer keeps a single request in flight, so without this every publish of
 * a busy process waits a full round trip behind the one before it (a runner
 * publishing results and usage, a consumer answering each message). Sends
 * queued in the same tick go together (a publish of several topics, such as an
 * outbox batch of a task and its workflow events, is one request, not a request
 * per topic one behind the other), and so do sends queued while a request is in
 * flight, in the order they were queued, up to `maxBatchBytes` (a larger single
 * send goes alone). Each caller's promise settles with the request that carried
 * it.
 */
export class SendCoalescer {
  private queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly send: (topicMessages: TopicMessages[]) => Promise<unknown>,
    private readonly maxBatchBytes: number,
  ) {}

  enqueue(topic: string, messages: Message[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, messages, bytes: messages.reduce((sum, m) => sum + messageBytes(m), 0), resolve, reject });
      if (!this.draining) {
        this.draining = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        const byTopic = new Map<string, Message[]>();
        for (const item of batch) byTopic.set(item.topic, [...(byTopic.get(item.topic) ?? []), ...item.messages]);
        try {
          await this.send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
          for (const item of batch) item.resolve();
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private take(): Pending[] {
    let bytes = 0;
    let count = 0;
    for (const item of this.queue) {
      if (count > 0 && bytes + item.bytes > this.maxBatchBytes) break;
      bytes += item.bytes;
      count += 1;
    }
    return this.queue.splice(0, count);
  }
}
