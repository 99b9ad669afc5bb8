/** One Kafka record as the relay hands it over: topic is the logical (contracts) name. */
export interface OutboxRecord {
  topic: string;
  key: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

/**
 * The port the relay publishes through. `@baton/bus`'s KafkaBus has exactly
 * this method, so it satisfies the port without persistence depending on it.
 * Resolving means every record is acknowledged by the broker; rejecting means
 * any subset may have been sent (the relay then retries the whole batch).
 */
export interface OutboxPublisher {
  publishRecords(records: readonly OutboxRecord[]): Promise<void>;
}
