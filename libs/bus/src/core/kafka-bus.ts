import { randomUUID } from 'node:crypto';
import { ContractValidationError, type Envelope, type MessageContract } from '@baton/contracts';
import { context as otelContext, trace } from '@opentelemetry/api';
import { injectTraceHeaders } from '@baton/telemetry';
import { type Admin, Kafka, type Message, Partitioners, type Producer, logLevel } from 'kafkajs';
import { type BusConfig, type ResolvedBusConfig, resolveBusConfig } from './bus-config';
import { endSpan, startProducerSpan } from './bus-telemetry';
import type {
  BatchMessageHandler,
  BatchSubscribeOptions,
  BusStats,
  ConsumedMessage,
  MessageHandler,
  OutgoingRecord,
  RawMessageHandler,
  RawSubscribeOptions,
  RequestOptions,
  SubscribeOptions,
  Subscription,
} from './bus-types';
import { planOutgoing } from './claim-check';
import { encodeOutgoing } from './envelope-validation';
import { BusNotConnectedError, NotARequestError, toError } from './errors';
import { KafkaSubscription } from './kafka-subscription';
import { kafkajsLogCreator } from './kafkajs-logging';
import { HEADERS } from './message-headers';
import { ReplyInbox } from './reply-inbox';
import { ReplySender } from './reply-sender';
import { awaitTopicLeaders } from './topic-leaders';
import { messageBytes, SendCoalescer } from './send-coalescer';
import { planTopics } from './topic-plan';

type State = 'new' | 'connected' | 'closed';

/**
 * Bounded on purpose: kafkajs' idempotent default retries forever, which turns
 * a missing topic or a lost cluster into a publish that never returns. Callers
 * (the outbox relay) retry a failed publish themselves.
 */
const PRODUCER_RETRY = { retries: 10, initialRetryTime: 100, maxRetryTime: 5_000 };
/** Replies are bounded by their request's timeout: a missing reply topic is told quickly. */
const REPLY_PRODUCER_RETRY = { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 };
/** Sends coalesced into one produce request stay under this (well below the broker's default 1 MB limit). */
const COALESCED_BATCH_BYTES = 512 * 1024;

/**
 * Baton's Kafka layer: validated publish/consume of envelopes, manual commits
 * after handling, retries with backoff, dead-letter topics, W3C trace context
 * in headers, request/reply, graceful shutdown. The only kafkajs importer.
 */
export class KafkaBus {
  private readonly config: ResolvedBusConfig;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly counters: BusStats = {
    published: 0,
    consumed: 0,
    handled: 0,
    retried: 0,
    deadLettered: 0,
  };
  private readonly replies: ReplyInbox;
  private readonly replySender: ReplySender;
  private readonly sender: SendCoalescer;
  private state: State = 'new';
  private connecting: Promise<void> | undefined;
  private disconnecting: Promise<void> | undefined;

  constructor(config: BusConfig) {
    this.config = resolveBusConfig(config);
    this.kafka = new Kafka({
      clientId: this.config.clientId,
      brokers: this.config.brokers,
      logLevel: logLevel.WARN,
      logCreator: kafkajsLogCreator(this.config.logger),
      ...(config.requestTimeoutMs !== undefined ? { requestTimeout: config.requestTimeoutMs } : {}),
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      // kafkajs keeps sequence numbers correct only with one request in flight per broker.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2, so a key lands on the same partition whatever client produced it.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: PRODUCER_RETRY,
    });
    this.sender = new SendCoalescer((topicMessages) => this.producer.sendBatch({ acks: -1, topicMessages }), COALESCED_BATCH_BYTES);
    this.admin = this.kafka.admin();
    this.replies = new ReplyInbox(this.config, this.admin, (groupId) => this.createConsumer(groupId));
    this.replySender = new ReplySender(
      () =>
        this.kafka.producer({
          allowAutoTopicCreation: false,
          createPartitioner: Partitioners.DefaultPartitioner,
          retry: REPLY_PRODUCER_RETRY,
        }),
      this.admin,
      this.config.logger,
    );
  }

  /** Logical topic names are prefixed with this on the wire. */
  get topicPrefix(): string {
    return this.config.topicPrefix;
  }

  connect(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new BusNotConnectedError('bus was disconnected'));
    this.connecting ??= (async () => {
      await Promise.all([this.producer.connect(), this.admin.connect()]);
      this.state = 'connected';
    })().catch((error: unknown) => {
      // A failed attempt (broker not up yet) must not poison the next one.
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  /** Creates each logical topic (prefixed) and its `.dlq` when missing; existing topics are left as they are. */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    this.assertConnected();
    const planned = planTopics(topics, this.config.topicPrefix, this.config.replicationFactor);
    const existing = new Set(await this.admin.listTopics());
    const missing = planned.filter((topic) => !existing.has(topic.topic));
    if (missing.length === 0) return;
    // Resolves false when a concurrent caller created them first, which is just as good.
    await this.admin.createTopics({ topics: missing, waitForLeaders: false });
    await awaitTopicLeaders(
      this.admin,
      missing.map((topic) => topic.topic),
    );
    this.config.logger.info('topics created', { topics: missing.map((topic) => topic.topic) });
  }

  /** Validates and sends; an envelope over the claim threshold has its payload stored in the claim store first. */
  async publish<P>(contract: MessageContract<P>, envelope: Envelope<P>): Promise<void> {
    await this.sendEnvelope(contract, envelope, `${this.config.topicPrefix}${contract.topic}`, {}, true);
  }

  /**
   * The raw path of the outbox relay: records were validated and their headers
   * (trace context included) captured when the outbox row was committed.
   */
  async publishRecords(records: readonly OutgoingRecord[]): Promise<void> {
    this.assertConnected();
    if (records.length === 0) return;
    // Chunks bounded in bytes, so no produce request outgrows what the broker accepts.
    const chunks: Array<{ topic: string; messages: Message[] }> = [];
    let bytes = 0;
    for (const record of records) {
      const topic = `${this.config.topicPrefix}${record.topic}`;
      const message: Message = { key: record.key, value: record.value, headers: { ...record.headers } };
      const size = messageBytes(message);
      const last = chunks[chunks.length - 1];
      if (last && last.topic === topic && bytes + size <= COALESCED_BATCH_BYTES) {
        last.messages.push(message);
        bytes += size;
      } else {
        chunks.push({ topic, messages: [message] });
        bytes = size;
      }
    }
    await Promise.all(chunks.map((chunk) => this.sender.enqueue(chunk.topic, chunk.messages)));
    this.counters.published += records.length;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.startSubscription(options, options.handler);
  }

  /**
   * Like subscribe, for topics that do not carry Baton's envelope (`baton.system-events`: CloudEvents): records
   * reach the handler undecoded; retries, DLQ, manual commits and trace context work as for envelopes.
   */
  async subscribeRaw(options: RawSubscribeOptions): Promise<Subscription> {
    return this.startSubscription(options, { raw: options.handler });
  }

  /** Like subscribe, handing each fetched partition batch to `batchHandler` at once (see BatchSubscribeOptions). */
  async subscribeBatch(options: BatchSubscribeOptions): Promise<Subscription> {
    return this.startSubscription(options, options.handler, options.batchHandler);
  }

  private async startSubscription(
    options: Omit<SubscribeOptions, 'handler'>,
    handler: MessageHandler | { raw: RawMessageHandler },
    batchHandler?: BatchMessageHandler,
  ): Promise<Subscription> {
    this.assertConnected();
    const subscription = new KafkaSubscription(
      options.groupId,
      options.topics,
      handler,
      {
        consumer: this.createConsumer(options.groupId),
        config: this.config,
        stats: this.counters,
        sendDeadLetter: async ({ topic, key, value, headers }) => {
          await this.producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
        },
        onClosed: (closed) => this.subscriptions.delete(closed),
      },
      batchHandler,
    );
    this.subscriptions.add(subscription);
    try {
      await subscription.start({
        fromBeginning: options.fromBeginning ?? true,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      });
    } catch (error) {
      await subscription.close().catch(() => undefined);
      throw error;
    }
    return subscription;
  }

  /**
   * Sends `envelope` with `baton-reply-to` / `baton-request-id` headers and
   * resolves with the first reply carrying that request id, or rejects with
   * RequestTimeoutError.
   */
  async request<P>(contract: MessageContract<P>, envelope: Envelope<P>, options: RequestOptions = {}): Promise<ConsumedMessage> {
    this.assertConnected();
    encodeOutgoing(contract, envelope);
    await this.replies.ensureStarted();
    const requestId = randomUUID();
    const reply = this.replies.expect(requestId, options.timeoutMs ?? this.config.requestTimeoutMs, contract.topic);
    // The caller handles `reply` once this returns; until then a timeout must not count as unhandled.
    reply.catch(() => undefined);
    try {
      await this.sendEnvelope(contract, envelope, `${this.config.topicPrefix}${contract.topic}`, {
        [HEADERS.replyTo]: this.replies.physicalTopic,
        [HEADERS.requestId]: requestId,
      });
    } catch (error) {
      this.replies.cancel(requestId, toError(error));
    }
    return reply;
  }

  /** Answers a message received from `request()` on the requester's reply topic. */
  async reply<P>(request: ConsumedMessage, contract: MessageContract<P>, envelope: Envelope<P>): Promise<void> {
    const replyTo = request.headers[HEADERS.replyTo];
    const requestId = request.headers[HEADERS.requestId];
    if (replyTo === undefined || requestId === undefined) {
      throw new NotARequestError(
        `message ${request.envelope.id} on ${request.topic} has no ${HEADERS.replyTo} / ${HEADERS.requestId} header`,
      );
    }
    await this.sendEnvelope(contract, envelope, replyTo, { [HEADERS.requestId]: requestId }, false, true);
  }

  /**
   * For readiness probes: connected, not shutting down, and the cluster answers
   * a metadata request within `timeoutMs`. Never throws.
   */
  async isReady(timeoutMs = 2_000): Promise<boolean> {
    if (this.state !== 'connected') return false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const answered = this.admin.describeCluster().then(
      (cluster) => cluster.brokers.length > 0,
      () => false,
    );
    try {
      return await Promise.race([answered, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): BusStats {
    return { ...this.counters };
  }

  /**
   * Stops every consumer gracefully (in-flight handlers finish and commit) and
   * keeps the producer: a service that drains its own work on shutdown takes
   * nothing new meanwhile and can still publish what that work produces.
   */
  async stopConsuming(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
  }

  /** Stops every consumer gracefully (in-flight handlers finish and commit), then the producer. Idempotent. */
  disconnect(): Promise<void> {
    this.disconnecting ??= this.shutdown();
    return this.disconnecting;
  }

  private async shutdown(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    this.state = 'closed';
    await this.stopConsuming();
    await this.replies.close();
    await this.replySender.close();
    await this.producer.disconnect();
    await this.admin.disconnect();
    this.config.logger.info('bus disconnected', { clientId: this.config.clientId, ...this.stats() });
  }

  private assertConnected(): void {
    if (this.state !== 'connected') {
      throw new BusNotConnectedError(this.state === 'new' ? 'call connect() first' : 'bus was disconnected');
    }
  }

  /** Consumer groups are namespaced like topics, so prefixed deployments (and tests) never share a group. */
  private createConsumer(groupId: string) {
    const sessionTimeout = this.config.sessionTimeoutMs;
    return this.kafka.consumer({
      groupId: `${this.config.topicPrefix}${groupId}`,
      sessionTimeout,
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
      allowAutoTopicCreation: false,
    });
  }

  private async sendEnvelope<P>(
    contract: MessageContract<P>,
    envelope: Envelope<P>,
    physicalTopic: string,
    extraHeaders: Record<string, string>,
    /** Request/reply stays inline: the reply inbox does not resolve claim checks. */
    claimCheck = false,
    isReply = false,
  ): Promise<void> {
    this.assertConnected();
    const store = claimCheck ? this.config.claimStore : undefined;
    const plan = planOutgoing(envelope, encodeOutgoing(contract, envelope), contract.topic, {
      thresholdBytes: this.config.claimThresholdBytes,
      maxMessageBytes: this.config.maxMessageBytes,
      store: store?.kind,
    });
    if (plan.claim !== undefined) await store?.put(plan.claim);
    const value = plan.value;
    const key = contract.key(envelope);
    if (typeof key !== 'string' || key === '') {
      throw new ContractValidationError(['(key): the contract chose an empty key'], `cannot publish ${contract.type}`);
    }
    const span = startProducerSpan(otelContext.active(), { topic: physicalTopic, key, type: envelope.type });
    try {
      const headers = {
        ...injectTraceHeaders(trace.setSpan(otelContext.active(), span)),
        [HEADERS.contentType]: 'application/json',
        [HEADERS.type]: envelope.type,
        [HEADERS.version]: String(envelope.version),
        ...extraHeaders,
      };
      if (!isReply) await this.sender.enqueue(physicalTopic, [{ key, value, headers }]);
      else if ((await this.replySender.send(physicalTopic, { key, value, headers })) === 'requester-gone') {
        span.setAttribute('baton.reply.dropped', true);
      }
      this.counters.published += 1;
      endSpan(span);
    } catch (error) {
      endSpan(span, toError(error));
      throw error;
    }
  }
}
