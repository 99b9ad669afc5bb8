import { type BusLogger, jsonLineLogger } from './bus-logger';
import { DEFAULT_CLAIM_THRESHOLD_BYTES, DEFAULT_MAX_MESSAGE_BYTES } from './claim-check';
import type { ClaimStore } from './claim-store';

export interface RetryConfig {
  /** Handler attempts per message, the first included. Default 5. */
  maxAttempts?: number;
  /** Delay before the second attempt; doubles each attempt. Default 100 ms. */
  initialBackoffMs?: number;
  /** Upper bound of one delay. Default 5000 ms. */
  maxBackoffMs?: number;
}

export interface BusConfig {
  brokers: string[];
  clientId: string;
  /** Prepended to every logical topic name; tests use it for isolation, e.g. `t-ab12.`. */
  topicPrefix?: string;
  /** Replication factor of the topics `ensureTopics` creates. Default 1. */
  replicationFactor?: number;
  retry?: RetryConfig;
  requestTimeoutMs?: number;
  /**
   * Consumer session timeout. A consumer that dies without leaving its group
   * holds its partitions this long. Default 30000 ms (Kafka's own default).
   */
  sessionTimeoutMs?: number;
  logger?: BusLogger;
  /**
   * Where `publish` puts payloads of envelopes over `claimThresholdBytes` and where consumers read
   * claim-checked payloads back. Without one, nothing is claim-checked and an envelope over
   * `maxMessageBytes` is refused before it reaches Kafka.
   */
  claimStore?: ClaimStore;
  /** Serialized envelopes above this travel by reference when a claim store is set. Default 256 KiB. */
  claimThresholdBytes?: number;
  /** The broker's `message.max.bytes` as this bus assumes it. Default 1 MiB (Kafka's default). */
  maxMessageBytes?: number;
}

export interface ResolvedRetry {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface ResolvedBusConfig {
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  replicationFactor: number;
  retry: ResolvedRetry;
  requestTimeoutMs: number;
  sessionTimeoutMs: number;
  logger: BusLogger;
  claimStore: ClaimStore | undefined;
  claimThresholdBytes: number;
  maxMessageBytes: number;
}

export class InvalidBusConfigError extends Error {
  override readonly name = 'InvalidBusConfigError';
}

export function resolveBusConfig(config: BusConfig): ResolvedBusConfig {
  if (config.brokers.length === 0) throw new InvalidBusConfigError('brokers: at least one broker is required');
  if (config.clientId.trim() === '') throw new InvalidBusConfigError('clientId: required');
  const retry: ResolvedRetry = {
    maxAttempts: config.retry?.maxAttempts ?? 5,
    initialBackoffMs: config.retry?.initialBackoffMs ?? 100,
    maxBackoffMs: config.retry?.maxBackoffMs ?? 5000,
  };
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) {
    throw new InvalidBusConfigError('retry.maxAttempts: must be an integer >= 1');
  }
  if (retry.initialBackoffMs < 0 || retry.maxBackoffMs < retry.initialBackoffMs) {
    throw new InvalidBusConfigError('retry: need 0 <= initialBackoffMs <= maxBackoffMs');
  }
  const maxMessageBytes = config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const claimThresholdBytes = config.claimThresholdBytes ?? Math.min(DEFAULT_CLAIM_THRESHOLD_BYTES, maxMessageBytes);
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024) {
    throw new InvalidBusConfigError('maxMessageBytes: must be an integer >= 1024');
  }
  if (!Number.isInteger(claimThresholdBytes) || claimThresholdBytes < 1 || claimThresholdBytes > maxMessageBytes) {
    throw new InvalidBusConfigError(`claimThresholdBytes: must be an integer between 1 and maxMessageBytes (${maxMessageBytes})`);
  }
  return {
    brokers: config.brokers,
    clientId: config.clientId,
    topicPrefix: config.topicPrefix ?? '',
    replicationFactor: config.replicationFactor ?? 1,
    retry,
    requestTimeoutMs: config.requestTimeoutMs ?? 30_000,
    sessionTimeoutMs: config.sessionTimeoutMs ?? 30_000,
    logger: config.logger ?? jsonLineLogger,
    claimStore: config.claimStore,
    claimThresholdBytes,
    maxMessageBytes,
  };
}
