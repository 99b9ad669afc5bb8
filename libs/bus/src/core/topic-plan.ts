import { TOPIC_CATALOGUE, type TopicName, type TopicSpec, dlqTopic } from '@baton/contracts';

export const DEFAULT_PARTITIONS = 6;
/** Dead letters are read by operators, not scaled consumers; one partition keeps them in failure order. */
export const DLQ_PARTITIONS = 1;

export interface PlannedTopic {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: { name: string; value: string }[];
}

function catalogueSpec(logical: string): TopicSpec | undefined {
  return Object.prototype.hasOwnProperty.call(TOPIC_CATALOGUE, logical) ? TOPIC_CATALOGUE[logical as TopicName] : undefined;
}

/** Each logical topic (prefixed) and its `.dlq`, sized and configured from the topic catalogue. */
export function planTopics(logical: readonly string[], prefix: string, replicationFactor: number): PlannedTopic[] {
  const planned = new Map<string, PlannedTopic>();
  for (const name of logical) {
    const spec = catalogueSpec(name);
    const physical = `${prefix}${name}`;
    planned.set(physical, {
      topic: physical,
      numPartitions: spec?.partitions ?? DEFAULT_PARTITIONS,
      replicationFactor,
      configEntries: spec?.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
    });
    // The DLQ is never compacted: every failed record matters, not the latest per key.
    planned.set(dlqTopic(physical), {
      topic: dlqTopic(physical),
      numPartitions: DLQ_PARTITIONS,
      replicationFactor,
      configEntries: [],
    });
  }
  return [...planned.values()];
}
