// `npm run bench:bus`: bare kafkajs produce→consume on loopback. Prints figures, asserts nothing.
//   BENCH_ROUND_TRIPS (2000), BENCH_WARMUP (200), BENCH_MESSAGES (50000), BENCH_BATCH (500), BENCH_BYTES (100)
import { measureBareKafkaRoundTrip, resolveBrokers } from './bare-kafka-round-trip';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

const fmt = (value: number, digits = 2): string => value.toFixed(digits);

async function main(): Promise<void> {
  const brokers = resolveBrokers();
  const options = {
    brokers,
    roundTrips: intFromEnv('BENCH_ROUND_TRIPS', 2_000),
    warmup: intFromEnv('BENCH_WARMUP', 200),
    throughputMessages: intFromEnv('BENCH_MESSAGES', 50_000),
    batchSize: intFromEnv('BENCH_BATCH', 500),
    messageBytes: intFromEnv('BENCH_BYTES', 100),
  };
  process.stderr.write(`bench:bus against ${brokers.join(',')} ...\n`);
  const { roundTrip, throughput } = await measureBareKafkaRoundTrip(options);

  const rows: [string, string][] = [
    ['brokers', brokers.join(',')],
    ['producer', 'kafkajs, idempotent, acks=all, 1 in flight'],
    ['round trips (sequential)', `${roundTrip.count} after ${options.warmup} warm-up, ${options.messageBytes} B`],
    ['  p50 latency', `${fmt(roundTrip.p50Ms)} ms`],
    ['  p99 latency', `${fmt(roundTrip.p99Ms)} ms`],
    ['  mean / max', `${fmt(roundTrip.meanMs)} / ${fmt(roundTrip.maxMs)} ms`],
  ];
  if (throughput) {
    rows.push(
      ['throughput messages', `${throughput.messages} x ${options.messageBytes} B, batches of ${options.batchSize}, 6 partitions`],
      ['  produced', `${fmt(throughput.produceMsgPerSec, 0)} msg/s (${fmt(throughput.produceSeconds)} s)`],
      ['  consumed (end to end)', `${fmt(throughput.consumeMsgPerSec, 0)} msg/s (${fmt(throughput.consumeSeconds)} s)`],
    );
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`\nbare Kafka (kafkajs) on loopback\n${'-'.repeat(width + 40)}\n`);
  for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:bus failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
