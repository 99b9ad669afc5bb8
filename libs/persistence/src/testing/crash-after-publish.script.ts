// Child process for the at-least-once test: a relay whose publish reaches Kafka
// and then never returns, so the process is SIGKILLed after publishing and
// before marking the rows published.
// usage: crash-after-publish.script.ts <database-url> <schema> <brokers,comma,separated> <topic-prefix>
import { OutboxRelay, type OutboxPublisher, type OutboxRecord } from '../index';
import { connectTestBus } from './test-bus';
import { createTestDataSource } from './test-orders';

async function main(): Promise<void> {
  const [url, schema, brokers, prefix] = process.argv.slice(2);
  if (url === undefined || schema === undefined || brokers === undefined || prefix === undefined) {
    throw new Error('usage: crash-after-publish.script.ts <database-url> <schema> <brokers> <topic-prefix>');
  }
  const kafka = await connectTestBus(brokers.split(','), prefix, 'crash-after-publish');
  const publishThenHang: OutboxPublisher = {
    async publishRecords(records: readonly OutboxRecord[]): Promise<void> {
      await kafka.publishRecords(records);
      console.log(`PUBLISHED ${records.length}`);
      await new Promise<never>(() => undefined);
    },
  };
  // The relay needs no initialized DataSource: it works on its own connection.
  const relay = new OutboxRelay(createTestDataSource(url, schema, 'crash-after-publish'), publishThenHang, {
    batchSize: 1000,
    pollIntervalMs: 100,
  });
  relay.start();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
