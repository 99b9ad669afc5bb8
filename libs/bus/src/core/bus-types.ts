import type { Context } from '@opentelemetry/api';
import type { Envelope, MessageContract } from '@baton/contracts';

/** A validated message handed to a handler. */
export interface ConsumedMessage {
  envelope: Envelope;
  contract: MessageContract;
  /** Logical topic name, without the configured prefix. */
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /**
   * The context of this message's consumer span (a child of its producer's
   * span). Work done for the message under it stays in the producer's trace;
   * a batch handler needs it because no single message's context is active.
   */
  traceContext: Context;
}

/** A record for the raw publishing path (the outbox relay stored these at commit time). */
export interface OutgoingRecord {
  /** Logical topic name, without the configured prefix. */
  topic: string;
  key: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export type MessageHandler = (message: ConsumedMessage) => Promise<void>;

/** A record as it arrived, for topics not in Baton's envelope (`baton.system-events` speaks CloudEvents). */
export interface RawConsumedMessage {
  /** Logical topic name, without the configured prefix. */
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Throw NonRetryableError (or `retryable: false`) for input that cannot become valid: it goes to the DLQ at once. */
export type RawMessageHandler = (message: RawConsumedMessage) => Promise<void>;

/** Handles a partition's fetched batch at once (all valid envelopes, in order). */
export type BatchMessageHandler = (messages: readonly ConsumedMessage[]) => Promise<void>;

/**
 * Batch consumption for throughput (one database transaction per batch instead of per message). Invalid
 * envelopes are dead-lettered before the batch handler runs; when it throws, the batch is handled again
 * message by message through `handler` (retries, DLQ), so a poison message costs only itself.
 */
export interface BatchSubscribeOptions extends SubscribeOptions {
  batchHandler: BatchMessageHandler;
}

export interface RawSubscribeOptions extends Omit<SubscribeOptions, 'handler'> {
  handler: RawMessageHandler;
}

export interface SubscribeOptions {
  groupId: string;
  /** Logical topic names. */
  topics: readonly string[];
  handler: MessageHandler;
  /** Partitions handled in parallel; order is kept within a partition. Default 1. */
  partitionsConsumedConcurrently?: number;
  /** Where a group without committed offsets starts. Default true: nothing published before the first start is lost. */
  fromBeginning?: boolean;
}

export interface Subscription {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Stops fetching, lets the in-flight handlers finish and commit, then leaves the group. Idempotent. */
  close(): Promise<void>;
}

export interface RequestOptions {
  timeoutMs?: number;
}

export interface BusStats {
  published: number;
  consumed: number;
  handled: number;
  retried: number;
  deadLettered: number;
}
