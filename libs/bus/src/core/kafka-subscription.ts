import { extractTraceContext } from '@baton/telemetry';
import {
  ContractValidationError,
  type DecodedEnvelope,
  type ParsedEnvelope,
  completeEnvelope,
  decodeEnvelope,
  dlqTopic,
} from '@baton/contracts';
import { context as otelContext, type Span, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, EachMessagePayload, KafkaMessage } from 'kafkajs';
import { backoffDelayMs } from './backoff';
import type { ResolvedBusConfig } from './bus-config';
import { ConsumerLag, countDeadLettered } from './bus-metrics';
import { endSpan, startConsumerSpan } from './bus-telemetry';
import type { BatchMessageHandler, BusStats, ConsumedMessage, MessageHandler, RawMessageHandler, Subscription } from './bus-types';
import { resolveClaimed } from './claim-check';
import { buildDeadLetterHeaders, deadLetterReason, peekCorrelationId } from './dead-letter';
import { isRetryable, toError } from './errors';
import { decodeHeaders } from './message-headers';

export interface DeadLetterRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface SubscriptionDeps {
  consumer: Consumer;
  config: ResolvedBusConfig;
  stats: BusStats;
  sendDeadLetter: (record: DeadLetterRecord) => Promise<void>;
  onClosed: (subscription: KafkaSubscription) => void;
}

/** What happened to one delivery; only `abandoned` leaves the offset uncommitted. */
type Outcome = 'handled' | 'dead-lettered' | 'abandoned';

/** A message of an inline batch: its envelope, or why it is not valid. */
type BatchMessage = { message: KafkaMessage } & (
  { parsed: ParsedEnvelope; invalid?: undefined } | { parsed?: undefined; invalid: ContractValidationError }
);

/**
 * One consumer group member. Every message ends handled or dead-lettered and
 * only then is its offset committed, so a crash at any point redelivers it.
 */
export class KafkaSubscription implements Subscription {
  private stopping = false;
  private closing: Promise<void> | undefined;
  private readonly wakeSleepers = new Set<() => void>();
  private inFlight = 0;
  private readonly drainWaiters: (() => void)[] = [];
  /** Offsets handled and not yet sent to the group coordinator: the next one to commit per partition. */
  private readonly uncommitted = new Map<string, { topic: string; partition: number; offset: string }>();
  private committing = false;
  private readonly lag: ConsumerLag;

  constructor(
    readonly groupId: string,
    readonly topics: readonly string[],
    /** `{ raw }`: records are handed over undecoded (topics not in Baton's envelope, e.g. CloudEvents). */
    private readonly handler: MessageHandler | { raw: RawMessageHandler },
    private readonly deps: SubscriptionDeps,
    /** When set, each fetched batch of a partition goes to it at once; a failing batch falls back to `handler` per message. */
    private readonly batchHandler?: BatchMessageHandler,
  ) {
    this.lag = new ConsumerLag(groupId);
  }

  async start(options: { fromBeginning: boolean; partitionsConsumedConcurrently: number }): Promise<void> {
    const { consumer, config } = this.deps;
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.lag.record(payload.topic, payload.partition, Number(payload.offsetLag));
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: this.topics.map((topic) => `${config.topicPrefix}${topic}`),
      fromBeginning: options.fromBeginning,
    });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      ...(this.batchHandler === undefined
        ? { eachMessage: (payload: EachMessagePayload) => this.onMessage(payload) }
        : { eachBatch: (payload: EachBatchPayload) => this.onBatch(payload) }),
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakeSleepers) wake();
    // Drain before kafkajs stops: once its runner is stopping, commitOffsets silently does nothing.
    await this.drained();
    await this.deps.consumer.disconnect();
    this.lag.close();
    this.deps.onClosed(this);
  }

  private logicalTopic(physical: string): string {
    const prefix = this.deps.config.topicPrefix;
    return prefix !== '' && physical.startsWith(prefix) ? physical.slice(prefix.length) : physical;
  }

  /** Nothing being handled and every handled offset committed (or its commit failed). */
  private drained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private isDrained(): boolean {
    return this.inFlight === 0 && !this.committing && this.uncommitted.size === 0;
  }

  private settleDrainWaiters(): void {
    if (this.isDrained()) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private async onBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    if (this.stopping || batch.messages.length === 0) return;
    const batchHandler = this.batchHandler;
    if (batchHandler === undefined || 'raw' in this.handler) return;
    this.inFlight += 1;
    try {
      const { topic, partition } = batch;
      const decoded = this.decodeBatch(topic, batch.messages);
      if (decoded === 'claim-checked') {
        // Claim checks need an async read (with retries) per message: rare enough to give up batching for the batch.
        for (const message of batch.messages) {
          if (this.stopping) return;
          await this.process({ topic, partition, message, heartbeat, pause: () => () => undefined });
        }
        return;
      }
      const valid: { payload: EachMessagePayload; consumed: ConsumedMessage; span: Span }[] = [];
      for (const { message, parsed, invalid } of decoded) {
        this.deps.stats.consumed += 1;
        const headers = decodeHeaders(message.headers);
        if (parsed === undefined) {
          const source = { topic, partition, offset: message.offset, headers };
          await this.deadLetter(source, message.key, message.value, invalid, 0, peekCorrelationId(message.value));
          continue;
        }
        const key = message.key === null ? null : message.key.toString('utf8');
        const parent = extractTraceContext(headers);
        const span = startConsumerSpan(parent, { topic, key, type: parsed.envelope.type });
        valid.push({
          payload: { topic, partition, message, heartbeat, pause: () => () => undefined },
          span,
          consumed: {
            envelope: parsed.envelope,
            contract: parsed.contract,
            topic: this.logicalTopic(topic),
            partition,
            offset: message.offset,
            key,
            headers,
            traceContext: trace.setSpan(parent, span),
          },
        });
      }
      if (valid.length > 0) {
        try {
          await batchHandler(valid.map((entry) => entry.consumed));
          for (const entry of valid) endSpan(entry.span);
          this.deps.stats.handled += valid.length;
        } catch (error) {
          // The per-message retry below traces each message again, in a span of its own.
          for (const entry of valid) endSpan(entry.span, toError(error));
          this.deps.config.logger.warn('batch handler failed; handling the batch message by message', {
            topic,
            partition,
            messages: valid.length,
            error: toError(error).message,
          });
          // Per message: retries, DLQ and a commit for each, exactly as without batching.
          for (const entry of valid) {
            if (this.stopping) return;
            this.deps.stats.consumed -= 1;
            // The batch commit below would pass the message close() left mid-retry: it must stay for the next owner.
            if ((await this.process(entry.payload)) === 'abandoned') return;
          }
        }
      }
      const last = batch.messages[batch.messages.length - 1];
      if (last !== undefined) this.commit(topic, partition, last.offset);
    } finally {
      this.inFlight -= 1;
      this.settleDrainWaiters();
    }
  }

  /**
   * Dead-letters and counts nothing, so a batch found to hold a claim check can still go to the per-message path
   * whole. A claim check is told by the decoded header, not by the bytes: JSON spells a key in more ways than a byte
   * search foresees (`"payloadRef" :`), and a claim taken for inline throws out of eachBatch, which leaves the
   * partition refetching the same batch forever.
   */
  private decodeBatch(topic: string, messages: readonly KafkaMessage[]): 'claim-checked' | BatchMessage[] {
    const decoded: BatchMessage[] = [];
    for (const message of messages) {
      try {
        const envelope = decodeEnvelope(this.logicalTopic(topic), message.value);
        if (envelope.header.payloadRef !== undefined) return 'claim-checked';
        decoded.push({ message, parsed: completeEnvelope(envelope, envelope.payload) });
      } catch (error) {
        if (!(error instanceof ContractValidationError)) throw error;
        decoded.push({ message, invalid: error });
      }
    }
    return decoded;
  }

  private async onMessage(payload: EachMessagePayload): Promise<void> {
    // Shutting down: leave the message uncommitted for the partition's next owner.
    if (this.stopping) return;
    this.inFlight += 1;
    try {
      await this.process(payload);
    } finally {
      this.inFlight -= 1;
      this.settleDrainWaiters();
    }
  }

  private async process({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<Outcome> {
    const { stats, config } = this.deps;
    stats.consumed += 1;
    const headers = decodeHeaders(message.headers);
    const source = { topic, partition, offset: message.offset, headers };
    const key = message.key === null ? null : message.key.toString('utf8');

    let invoke: () => Promise<void>;
    let correlationId: string | undefined;
    let type: string;
    if ('raw' in this.handler) {
      const rawHandler = this.handler.raw;
      const record = {
        topic: this.logicalTopic(topic),
        partition,
        offset: message.offset,
        key,
        value: message.value,
        headers,
      };
      invoke = () => rawHandler(record);
      correlationId = undefined;
      type = '(raw)';
    } else {
      let decoded: DecodedEnvelope;
      let inline: ParsedEnvelope | undefined;
      try {
        decoded = decodeEnvelope(this.logicalTopic(topic), message.value);
        if (decoded.header.payloadRef === undefined) inline = await resolveClaimed(decoded, undefined);
      } catch (error) {
        if (!(error instanceof ContractValidationError)) throw error;
        // Invalid input cannot become valid by retrying: straight to the DLQ.
        await this.deadLetter(source, message.key, message.value, error, 0, peekCorrelationId(message.value));
        this.commit(topic, partition, message.offset);
        return 'dead-lettered';
      }
      const envelopeHandler = this.handler;
      const claimStore = this.deps.config.claimStore;
      const consumedOf = (parsed: ParsedEnvelope): ConsumedMessage => ({
        envelope: parsed.envelope,
        contract: parsed.contract,
        topic: this.logicalTopic(topic),
        partition,
        offset: message.offset,
        key,
        headers,
        // Built inside the consumer span below, whose context is the active one.
        traceContext: otelContext.active(),
      });
      // A claim is read inside the retried call: a store that is briefly down is retried, a bad claim is not (ClaimCheckError).
      invoke = async () => envelopeHandler(consumedOf(inline ?? (await resolveClaimed(decoded, claimStore))));
      correlationId = decoded.header.correlationId;
      type = decoded.header.type;
    }
    const parent = extractTraceContext(headers);
    const span = startConsumerSpan(parent, { topic, key, type });
    const spanContext = trace.setSpan(parent, span);

    let outcome: Outcome = 'abandoned';
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= config.retry.maxAttempts; attempt += 1) {
      try {
        await otelContext.with(spanContext, invoke);
        outcome = 'handled';
        break;
      } catch (thrown) {
        lastError = toError(thrown);
        span.addEvent('handler failed', { attempt, 'exception.message': lastError.message });
        if (!isRetryable(thrown) || attempt === config.retry.maxAttempts) {
          await this.deadLetter(source, message.key, message.value, lastError, attempt, correlationId);
          outcome = 'dead-lettered';
          break;
        }
        stats.retried += 1;
        config.logger.warn('handler failed, retrying', {
          topic,
          partition,
          offset: message.offset,
          attempt,
          correlationId: correlationId ?? null,
          error: lastError.message,
        });
        await this.sleep(backoffDelayMs(attempt + 1, config.retry));
        // Retries are not in-flight work: on shutdown the message is left uncommitted for the next owner.
        if (this.stopping) break;
        await heartbeat();
      }
    }
    endSpan(span, outcome === 'handled' ? undefined : lastError);

    switch (outcome) {
      case 'handled':
        stats.handled += 1;
        this.commit(topic, partition, message.offset);
        return outcome;
      case 'dead-lettered':
        this.commit(topic, partition, message.offset);
        return outcome;
      case 'abandoned':
        config.logger.info('shutting down mid-retry; message left uncommitted', {
          topic,
          partition,
          offset: message.offset,
        });
        return outcome;
    }
  }

  private async deadLetter(
    source: { topic: string; partition: number; offset: string; headers: Record<string, string> },
    key: Buffer | null,
    value: Buffer | null,
    error: Error,
    attempts: number,
    correlationId: string | undefined,
  ): Promise<void> {
    const reason = deadLetterReason(error);
    // A failed DLQ write throws out of eachMessage: the offset stays uncommitted and kafkajs redelivers.
    await this.deps.sendDeadLetter({
      topic: dlqTopic(source.topic),
      key,
      value,
      headers: buildDeadLetterHeaders(source, reason, attempts, new Date()),
    });
    this.deps.stats.deadLettered += 1;
    countDeadLettered(this.groupId, source.topic);
    this.deps.config.logger.error('message dead-lettered', {
      topic: source.topic,
      partition: source.partition,
      offset: source.offset,
      attempts,
      reason,
      correlationId: correlationId ?? null,
    });
  }

  /**
   * Commits the offset after `offset` once the commits before it are done. The next fetch does not wait for the
   * coordinator's answer: the message was handled, so a crash before the commit lands only redelivers it (consumers
   * are idempotent), exactly as a crash just before an awaited commit would. At most one commit is in flight; the
   * offsets handled meanwhile go in the next, one per partition, so commits stay in offset order. shutdown waits for
   * them (drained).
   */
  private commit(topic: string, partition: number, offset: string): void {
    this.uncommitted.set(`${topic}\u0000${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
    if (this.committing) return;
    this.committing = true;
    void this.commitHandled();
  }

  private async commitHandled(): Promise<void> {
    try {
      while (this.uncommitted.size > 0) {
        const offsets = [...this.uncommitted.values()];
        this.uncommitted.clear();
        try {
          await this.deps.consumer.commitOffsets(offsets);
        } catch (error) {
          // Typically a rebalance: the partition's next owner redelivers from the last commit (inboxes dedupe).
          this.deps.config.logger.warn('offset commit failed', {
            offsets: offsets.map(({ topic, partition, offset }) => `${topic}[${partition}]@${offset}`).join(', '),
            error: toError(error).message,
          });
        }
      }
    } finally {
      this.committing = false;
      this.settleDrainWaiters();
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakeSleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeSleepers.add(wake);
    });
  }
}
