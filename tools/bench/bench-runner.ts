// `npm run bench:runner`: tasks/s through one agent-runner process on the
// built-in deterministic model, and the runner's own overhead per task with
// model time excluded (measured inside the runner: slot taken -> result
// published, minus the time spent in model calls; printed by the runner on
// shutdown). Prints figures, asserts nothing.
//   BENCH_TASKS (2000) tasks published at once; BENCH_WARMUP (200) first.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KafkaBus } from '@baton/bus';
import { TASK_COMPLETED, TOPICS, createEnvelope, taskAssigned } from '@baton/contracts';
import { spawnApp, type SpawnedApp } from '@baton/testing';
import { up } from '../infra/infra';

const ROOT = join(__dirname, '..', '..');

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

const fmt = (value: number): string => value.toFixed(2);

async function main(): Promise<void> {
  const tasks = intFromEnv('BENCH_TASKS', 2_000);
  const warmup = intFromEnv('BENCH_WARMUP', 200);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const { endpoints } = await up((message) => log(`  ${message}`));
  const prefix = `bench-${randomUUID().slice(0, 8)}.`;
  log(`bench:runner on ${endpoints.mode} infrastructure, topic prefix ${prefix}`);

  const bus = new KafkaBus({ brokers: endpoints.kafka.brokers, clientId: 'bench-runner', topicPrefix: prefix });
  let runner: SpawnedApp | undefined;
  try {
    await bus.connect();
    await bus.ensureTopics([TOPICS.tasksAssigned, TOPICS.tasksResults, TOPICS.governanceUsage, TOPICS.agentHeartbeats]);
    runner = await spawnApp({
      name: 'agent-runner',
      entry: 'apps/agent-runner/src/main.ts',
      logDir: join(ROOT, '.baton', 'bench-logs'),
      env: { KAFKA_BROKERS: endpoints.kafka.brokers.join(','), BATON_TOPIC_PREFIX: prefix, BATON_LOG_LEVEL: 'log' },
    });

    const done = new Map<string, () => void>();
    let failed = 0;
    await bus.subscribe({
      groupId: `bench-results-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      partitionsConsumedConcurrently: 6,
      handler: async ({ envelope }) => {
        const taskId = (envelope.payload as { taskId: string }).taskId;
        if (envelope.type !== TASK_COMPLETED) failed += 1;
        done.get(taskId)?.();
      },
    });

    const run = async (count: number): Promise<number> => {
      const waits: Promise<void>[] = [];
      const envelopes = Array.from({ length: count }, (_, index) => {
        const taskId = randomUUID();
        const workflowId = randomUUID();
        waits.push(new Promise<void>((resolve) => done.set(taskId, resolve)));
        const capability = index % 2 === 0 ? 'analysis' : 'classification';
        return createEnvelope(
          taskAssigned,
          {
            taskId,
            workflowId,
            stepId: `s${index}`,
            attempt: 1,
            capability,
            input: { document: `doc ${index}`, index },
            timeoutMs: 60_000,
          },
          { source: 'bench', correlationId: workflowId, workflowId },
        );
      });
      const started = performance.now();
      await Promise.all(envelopes.map((envelope) => bus.publish(taskAssigned, envelope)));
      await Promise.all(waits);
      return (performance.now() - started) / 1000;
    };

    log(`warm-up: ${warmup} tasks`);
    await run(warmup);
    log(`measuring: ${tasks} tasks published at once`);
    const seconds = await run(tasks);

    await runner.stop();
    const statsLine = readFileSync(runner.logFile, 'utf8')
      .split('\n')
      .reverse()
      .find((line) => line.includes('"runner statistics"'));
    const stats = statsLine ? (JSON.parse(statsLine) as Record<string, number>) : undefined;
    runner = undefined;

    const rows: [string, string][] = [
      [
        'tasks/s through one runner (built-in model)',
        `${fmt(tasks / seconds)} tasks/s (${tasks} tasks in ${fmt(seconds)} s, ${failed} failed)`,
      ],
      ['  what it includes', 'publish -> Kafka -> runner (agent, gateway, validation) -> Kafka -> bench consumer'],
    ];
    if (stats) {
      rows.push(
        [
          'runner overhead per task, model time excluded',
          `mean ${fmt(stats['overheadMeanMs'] ?? 0)} / p50 ${fmt(stats['overheadP50Ms'] ?? 0)} / p99 ${fmt(stats['overheadP99Ms'] ?? 0)} ms (${stats['overheadSamples']} tasks incl. warm-up)`,
        ],
        [
          '  what it includes',
          'agent choice, prompt, gateway routing + span, output validation, confidence, publishing result + usage (acks=all)',
        ],
        [
          "  of which the runner's own work",
          `mean ${fmt(stats['workMeanMs'] ?? 0)} / p50 ${fmt(stats['workP50Ms'] ?? 0)} / p99 ${fmt(stats['workP99Ms'] ?? 0)} ms (the rest is waiting for Kafka acks)`,
        ],
        ['model time, all tasks', `${fmt(stats['modelTimeMs'] ?? 0)} ms in total`],
      );
    }
    const width = Math.max(...rows.map(([label]) => label.length));
    process.stdout.write('\nbench:runner\n');
    for (const [label, value] of rows) process.stdout.write(`  ${label.padEnd(width)}  ${value}\n`);
  } finally {
    await runner?.stop();
    await bus.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:runner failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
