import { createMetrics, type GaugeReading } from '@baton/telemetry';

const metrics = createMetrics('@baton/bus');

/** The latest lag of every partition each open subscription consumes, read at each metrics collection. */
const lagBySubscription = new Map<ConsumerLag, Map<string, GaugeReading>>();

metrics.gauge('baton.consumer.lag', () => [...lagBySubscription.values()].flatMap((partitions) => [...partitions.values()]), {
  unit: '{message}',
  description: 'Messages behind the partition end after the last batch this consumer group member handled',
});

const deadLettered = metrics.counter('baton.consumer.dead_lettered', {
  unit: '{message}',
  description: 'Messages moved to the dead-letter topic instead of being handled',
});

/**
 * One subscription's consumer lag, per partition, as kafkajs reports it when
 * a batch is done (high watermark minus the next offset). A partition that
 * stops fetching keeps its last figure; one the member no longer owns is
 * forgotten only when the subscription closes.
 */
export class ConsumerLag {
  private readonly partitions = new Map<string, GaugeReading>();

  constructor(private readonly groupId: string) {}

  record(topic: string, partition: number, lag: number): void {
    if (!Number.isFinite(lag)) return;
    lagBySubscription.set(this, this.partitions);
    this.partitions.set(`${topic}\u0000${partition}`, {
      value: Math.max(0, lag),
      attributes: {
        'messaging.consumer.group.name': this.groupId,
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(partition),
      },
    });
  }

  close(): void {
    lagBySubscription.delete(this);
  }
}

export function countDeadLettered(groupId: string, topic: string): void {
  deadLettered.add(1, { 'messaging.consumer.group.name': groupId, 'messaging.destination.name': topic });
}
