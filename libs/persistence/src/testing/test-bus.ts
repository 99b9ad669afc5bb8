import { type BusLogger, KafkaBus } from '@baton/bus';
import { TOPICS } from '@baton/contracts';

const silent: BusLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The real publisher the relay is given in production: KafkaBus satisfies
 * OutboxPublisher structurally. Topics are prefixed for isolation.
 */
export async function connectTestBus(brokers: readonly string[], topicPrefix: string, clientId: string): Promise<KafkaBus> {
  const bus = new KafkaBus({ brokers: [...brokers], clientId, topicPrefix, logger: silent });
  await bus.connect();
  await bus.ensureTopics([TOPICS.workflowEvents]);
  return bus;
}
