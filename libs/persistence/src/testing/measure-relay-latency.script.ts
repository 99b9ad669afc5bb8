// Prints how long the relay takes from a committed enqueue to handing the
// record to its publisher (NOTIFY wake-up + read), with the poll fallback set
// to an hour so only NOTIFY can wake it. A figure, not a test.
// usage: node tools/run-ts.cjs libs/persistence/src/testing/measure-relay-latency.script.ts <database-url> [samples]
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createEnvelope, workflowCompleted } from '@baton/contracts';
import { initializeDataSource, Outbox, type OutboxRecord, OutboxRelay } from '../index';
import { createTestDataSource } from './test-orders';
import { dropSchema, uniqueSchema } from './test-schema';

async function main(): Promise<void> {
  const [url, samplesArg] = process.argv.slice(2);
  if (url === undefined) throw new Error('usage: measure-relay-latency.script.ts <database-url> [samples]');
  const samples = Number(samplesArg ?? '200');
  const schema = uniqueSchema('latency');
  const dataSource = await initializeDataSource(createTestDataSource(url, schema, 'latency'));
  const outbox = new Outbox();
  const waiting = new Map<string, (at: number) => void>();
  const relay = new OutboxRelay(
    dataSource,
    {
      publishRecords: (records: readonly OutboxRecord[]) => {
        const at = performance.now();
        for (const record of records) waiting.get(record.key)?.(at);
        return Promise.resolve();
      },
    },
    { pollIntervalMs: 3_600_000, logger: { log: () => undefined, warn: console.warn, error: console.error } },
  );
  relay.start();
  const latencies: number[] = [];
  try {
    for (let i = 0; i < samples; i += 1) {
      const workflowId = randomUUID();
      const envelope = createEnvelope(workflowCompleted, { workflowId, output: i }, { source: 'latency', correlationId: workflowId });
      const published = new Promise<number>((resolve) => waiting.set(workflowId, resolve));
      await dataSource.transaction((manager) => outbox.enqueue(manager, workflowCompleted, envelope));
      const committedAt = performance.now();
      latencies.push((await published) - committedAt);
      waiting.delete(workflowId);
    }
  } finally {
    await relay.stop();
    await dataSource.destroy();
    await dropSchema(url, schema);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN).toFixed(2);
  console.log(`commit -> publishRecords over ${samples} sequential messages: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
