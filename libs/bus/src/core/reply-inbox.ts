import { extractTraceContext } from '@baton/telemetry';
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachMessagePayload } from 'kafkajs';
import type { ResolvedBusConfig } from './bus-config';
import type { ConsumedMessage } from './bus-types';
import { parseReply } from './envelope-validation';
import { RequestTimeoutError, toError } from './errors';
import { HEADERS, decodeHeaders } from './message-headers';
import { awaitTopicLeaders } from './topic-leaders';

interface Pending {
  resolve: (reply: ConsumedMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class BusClosedError extends Error {
  override readonly name = 'BusClosedError';
}

/**
 * The requester's private reply topic and the requests waiting on it. The
 * topic is created on first use and deleted on close: its name is random, so
 * nobody else could ever read it.
 */
export class ReplyInbox {
  /** Logical name (unprefixed), as `ConsumedMessage.topic` reports it. */
  readonly logicalTopic: string;
  readonly physicalTopic: string;
  private readonly pending = new Map<string, Pending>();
  private started: Promise<void> | undefined;
  private consumer: Consumer | undefined;

  constructor(
    private readonly config: ResolvedBusConfig,
    private readonly admin: Admin,
    private readonly createConsumer: (groupId: string) => Consumer,
  ) {
    const suffix = randomUUID().slice(0, 8);
    this.logicalTopic = `baton.replies.${config.clientId}-${suffix}`;
    this.physicalTopic = `${config.topicPrefix}${this.logicalTopic}`;
  }

  ensureStarted(): Promise<void> {
    this.started ??= this.start().catch(async (error: unknown) => {
      // A busy broker may not host the new topic's partition in time: the next request tries again, rather than every
      // later request failing with this attempt's error.
      this.started = undefined;
      const consumer = this.consumer;
      this.consumer = undefined;
      await consumer?.disconnect().catch(() => undefined);
      throw error;
    });
    return this.started;
  }

  private async start(): Promise<void> {
    await this.admin.createTopics({
      topics: [{ topic: this.physicalTopic, numPartitions: 1, replicationFactor: this.config.replicationFactor }],
      waitForLeaders: false,
    });
    await awaitTopicLeaders(this.admin, [this.physicalTopic]);
    const consumer = this.createConsumer(`${this.logicalTopic}.inbox`);
    this.consumer = consumer;
    await consumer.connect();
    // From the beginning: a reply that lands before the group join completes is still read.
    await consumer.subscribe({ topics: [this.physicalTopic], fromBeginning: true });
    await consumer.run({ eachMessage: (payload) => Promise.resolve(this.onReply(payload)) });
  }

  /** Registers the wait before the request is sent, so even an instant reply finds it. */
  expect(requestId: string, timeoutMs: number, requestTopic: string): Promise<ConsumedMessage> {
    return new Promise<ConsumedMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new RequestTimeoutError(requestId, requestTopic, timeoutMs));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
    });
  }

  cancel(requestId: string, error: Error): void {
    const waiting = this.pending.get(requestId);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.pending.delete(requestId);
    waiting.reject(error);
  }

  private onReply({ topic, partition, message }: EachMessagePayload): void {
    const headers = decodeHeaders(message.headers);
    const requestId = headers[HEADERS.requestId];
    const waiting = requestId === undefined ? undefined : this.pending.get(requestId);
    if (requestId === undefined || waiting === undefined) {
      // Late (the requester timed out) or foreign: nobody is waiting for it.
      this.config.logger.debug?.('reply without a waiting request', {
        topic,
        partition,
        offset: message.offset,
      });
      return;
    }
    clearTimeout(waiting.timer);
    this.pending.delete(requestId);
    try {
      const { envelope, contract } = parseReply(message.value);
      waiting.resolve({
        envelope,
        contract,
        topic: this.logicalTopic,
        partition,
        offset: message.offset,
        key: message.key === null ? null : message.key.toString('utf8'),
        headers,
        // The replier's span, from the reply's headers: a reply gets no consumer span of its own.
        traceContext: extractTraceContext(headers),
      });
    } catch (error) {
      // An invalid reply is not dropped silently: the requester gets the validation error.
      this.config.logger.error('invalid reply', {
        topic,
        offset: message.offset,
        requestId,
        error: toError(error).message,
      });
      waiting.reject(toError(error));
    }
  }

  async close(): Promise<void> {
    for (const requestId of [...this.pending.keys()]) this.cancel(requestId, new BusClosedError('bus disconnected'));
    if (this.started === undefined) return;
    await this.started.catch(() => undefined);
    await this.consumer?.disconnect();
    try {
      await this.admin.deleteTopics({ topics: [this.physicalTopic] });
    } catch (error) {
      this.config.logger.warn('could not delete reply topic', {
        topic: this.physicalTopic,
        error: toError(error).message,
      });
    }
  }
}
