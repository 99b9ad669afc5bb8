// Child process for the crash test: commits an order and its outbox messages in
// one transaction, reports them, then waits to be SIGKILLed. No relay runs here,
// so only the database knows the messages exist.
// usage: crash-after-commit.script.ts <database-url> <schema> <workflow-id>...
import { randomUUID } from 'node:crypto';
import { createEnvelope, workflowCompleted } from '@baton/contracts';
import { initializeDataSource, Outbox } from '../index';
import { createTestDataSource, insertOrder } from './test-orders';

async function main(): Promise<void> {
  const [url, schema, ...workflowIds] = process.argv.slice(2);
  if (url === undefined || schema === undefined || workflowIds.length === 0) {
    throw new Error('usage: crash-after-commit.script.ts <database-url> <schema> <workflow-id>...');
  }
  const dataSource = await initializeDataSource(createTestDataSource(url, schema, 'crash-after-commit'));
  const outbox = new Outbox();
  const orderId = randomUUID();
  const envelopes = workflowIds.map((workflowId, index) =>
    createEnvelope(workflowCompleted, { workflowId, output: { index } }, { source: 'crash-test', correlationId: orderId }),
  );
  await dataSource.transaction(async (manager) => {
    await insertOrder(manager, orderId, 'committed just before a crash');
    for (const envelope of envelopes) await outbox.enqueue(manager, workflowCompleted, envelope);
  });
  console.log(`COMMITTED ${JSON.stringify({ orderId, ids: envelopes.map((envelope) => envelope.id) })}`);
  // Stay alive with the pool open until the test kills us.
  setInterval(() => undefined, 60_000);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
