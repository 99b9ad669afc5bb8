// Run as a child process by kafka-bus-offsets.int-spec.ts: joins the group and
// never finishes its handler, so the test can SIGKILL it mid-message.
// usage: node tools/run-ts.cjs libs/bus/src/testing/hanging-consumer.ts '<json>'
import { KafkaBus } from '../core/kafka-bus';
import { capturingLogger } from './bus-test-kit';

interface Args {
  brokers: string[];
  topicPrefix: string;
  groupId: string;
  topic: string;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const bus = new KafkaBus({
    brokers: args.brokers,
    clientId: 'hanging-consumer',
    topicPrefix: args.topicPrefix,
    // Kafka's minimum: the group frees this member's partitions soon after the kill.
    sessionTimeoutMs: 6_000,
    logger: capturingLogger(),
  });
  await bus.connect();
  await bus.subscribe({
    groupId: args.groupId,
    topics: [args.topic],
    handler: (message) => {
      process.stdout.write(`handling ${message.envelope.id}\n`);
      return new Promise<void>(() => undefined);
    },
  });
  process.stdout.write('subscribed\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
