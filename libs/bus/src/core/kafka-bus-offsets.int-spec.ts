import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { TOPICS, taskCompleted } from '@baton/contracts';
import { capturingLogger, committedOffsets, eventually, taskCompletedEnvelope, uniquePrefix } from '../testing/bus-test-kit';
import { KafkaBus } from './kafka-bus';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter((broker) => broker !== '');
const repoRoot = path.resolve(__dirname, '../../../..');
const buses: KafkaBus[] = [];
const children: ChildProcess[] = [];

async function startBus(prefix: string, sessionTimeoutMs?: number): Promise<KafkaBus> {
  const bus = new KafkaBus({
    brokers,
    clientId: 'bus-offsets-int',
    topicPrefix: prefix,
    logger: capturingLogger(),
    ...(sessionTimeoutMs !== undefined ? { sessionTimeoutMs } : {}),
  });
  buses.push(bus);
  await bus.connect();
  await bus.ensureTopics([TOPICS.tasksResults]);
  return bus;
}

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(buses.map((bus) => bus.disconnect()));
});

describe('KafkaBus offsets', () => {
  it('does not commit while the handler runs: after a crash the next group member gets the message again', async () => {
    const prefix = uniquePrefix();
    const bus = await startBus(prefix, 6_000);
    const groupId = `g-${randomUUID()}`;
    const envelope = taskCompletedEnvelope();
    await bus.publish(taskCompleted, envelope);

    const child = spawn(
      process.execPath,
      [
        'tools/run-ts.cjs',
        'libs/bus/src/testing/hanging-consumer.ts',
        JSON.stringify({ brokers, topicPrefix: prefix, groupId, topic: TOPICS.tasksResults }),
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await eventually(() => (output.includes(`handling ${envelope.id}`) ? true : undefined), 60_000, 'the child to handle');

    const physical = `${prefix}${TOPICS.tasksResults}`;
    const whileHandling = await committedOffsets(brokers, `${prefix}${groupId}`, physical);
    expect([...whileHandling.values()].every((offset) => offset === '-1')).toBe(true);

    child.kill('SIGKILL');
    const redelivered: string[] = [];
    await bus.subscribe({
      groupId,
      topics: [TOPICS.tasksResults],
      handler: async (message) => {
        redelivered.push(message.envelope.id);
      },
    });
    await eventually(() => (redelivered.length > 0 ? true : undefined), 60_000, 'the redelivery');
    expect(redelivered).toEqual([envelope.id]);
  });

  it('on disconnect waits for the in-flight handler, then commits its offset', async () => {
    const prefix = uniquePrefix();
    const bus = await startBus(prefix);
    const groupId = `g-${randomUUID()}`;
    const events: string[] = [];
    let release: (() => void) | undefined;
    await bus.subscribe({
      groupId,
      topics: [TOPICS.tasksResults],
      handler: async () => {
        events.push('handler started');
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        events.push('handler finished');
      },
    });
    await bus.publish(taskCompleted, taskCompletedEnvelope());
    await eventually(() => release, 30_000, 'the handler to start');

    const disconnected = bus.disconnect().then(() => events.push('disconnected'));
    // Let the shutdown get under way before the handler is allowed to finish.
    setTimeout(() => release?.(), 500);
    await disconnected;

    expect(events).toEqual(['handler started', 'handler finished', 'disconnected']);
    const committed = [...(await committedOffsets(brokers, `${prefix}${groupId}`, `${prefix}${TOPICS.tasksResults}`)).values()];
    expect(committed.filter((offset) => offset !== '-1')).toEqual(['1']);
  });
});
