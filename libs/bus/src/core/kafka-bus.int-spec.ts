import { randomUUID } from 'node:crypto';
import { TOPICS, dlqTopic, serializeEnvelope, taskCompleted } from '@baton/contracts';
import { startTelemetry } from '@baton/telemetry';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { capturingLogger, committedOffsets, eventually, readTopic, taskCompletedEnvelope, uniquePrefix } from '../testing/bus-test-kit';
import type { BusConfig } from './bus-config';
import type { ConsumedMessage } from './bus-types';
import { NonRetryableError } from './errors';
import { KafkaBus } from './kafka-bus';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter((broker) => broker !== '');
const exporter = new InMemorySpanExporter();
const spans = new SimpleSpanProcessor(exporter);
// The services' own start-up: W3C propagator, AsyncLocalStorage context manager, tracer provider.
const telemetry = startTelemetry({ serviceName: 'bus-int', spanProcessors: [spans] });

/** Export waits for async resource detection, so finished spans are read after a flush. */
async function finishedSpans() {
  await spans.forceFlush();
  return exporter.getFinishedSpans();
}
const buses: KafkaBus[] = [];

async function startBus(overrides: Partial<BusConfig> = {}): Promise<{ bus: KafkaBus; prefix: string }> {
  const prefix = uniquePrefix();
  const bus = new KafkaBus({
    brokers,
    clientId: 'bus-int',
    topicPrefix: prefix,
    retry: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 100 },
    logger: capturingLogger(),
    ...overrides,
  });
  buses.push(bus);
  await bus.connect();
  await bus.ensureTopics([TOPICS.tasksResults]);
  return { bus, prefix };
}

beforeAll(() => {
  expect(brokers.length).toBeGreaterThan(0);
});

afterAll(async () => {
  await Promise.all(buses.map((bus) => bus.disconnect()));
  await telemetry.shutdown();
});

describe('KafkaBus publish → consume', () => {
  it('delivers the validated envelope with its key, headers and logical topic', async () => {
    const { bus } = await startBus();
    const received: ConsumedMessage[] = [];
    await bus.subscribe({
      groupId: `g-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      handler: async (message) => {
        received.push(message);
      },
    });
    const envelope = taskCompletedEnvelope();
    await bus.publish(taskCompleted, envelope);

    const message = await eventually(() => received[0], 30_000, 'the message');
    expect(message.envelope).toEqual(envelope);
    expect(message.contract).toBe(taskCompleted);
    expect(message.topic).toBe(TOPICS.tasksResults);
    expect(message.key).toBe(envelope.payload.workflowId);
    expect(message.headers).toMatchObject({
      'content-type': 'application/json',
      'baton-type': 'task.completed',
      'baton-version': '1',
    });
  });

  it('runs the handler in a CONSUMER span that is a child of the PRODUCER span', async () => {
    const { bus, prefix } = await startBus();
    let activeInHandler: string | undefined;
    let traceparent: string | undefined;
    await bus.subscribe({
      groupId: `g-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      handler: async (message) => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
        traceparent = message.headers['traceparent'];
      },
    });
    const envelope = taskCompletedEnvelope();
    const tracer = trace.getTracer('bus-int');
    await tracer.startActiveSpan('workflow step', async (root) => {
      await bus.publish(taskCompleted, envelope);
      root.end();
    });

    const physical = `${prefix}${TOPICS.tasksResults}`;
    const consumerSpan = await eventually(
      async () => (await finishedSpans()).find((span) => span.kind === SpanKind.CONSUMER && span.name === `process ${physical}`),
      30_000,
      'the consumer span',
    );
    const producerSpan = (await finishedSpans()).find((span) => span.kind === SpanKind.PRODUCER && span.name === `send ${physical}`);
    if (!producerSpan) throw new Error('no producer span was recorded');
    const producer = producerSpan.spanContext();
    expect(consumerSpan.spanContext().traceId).toBe(producer.traceId);
    expect(consumerSpan.parentSpanContext?.spanId).toBe(producer.spanId);
    expect(traceparent).toBe(`00-${producer.traceId}-${producer.spanId}-01`);
    expect(activeInHandler).toBe(consumerSpan.spanContext().spanId);
    expect(consumerSpan.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': physical,
      'messaging.kafka.message.key': envelope.payload.workflowId,
      'baton.message.type': 'task.completed',
    });
  });

  it('reports readiness while connected, not after disconnect', async () => {
    const { bus } = await startBus();
    expect(await bus.isReady()).toBe(true);
    await bus.disconnect();
    expect(await bus.isReady()).toBe(false);
  });

  it('refuses to publish a hand-made envelope that breaks its contract', async () => {
    const { bus } = await startBus();
    const envelope = taskCompletedEnvelope();
    const broken = { ...envelope, payload: { ...envelope.payload, confidence: 2 } };
    await expect(bus.publish(taskCompleted, broken)).rejects.toThrow(/payload\.confidence/);
    expect(bus.stats().published).toBe(0);
  });
});

describe('KafkaBus dead letters', () => {
  it('sends malformed messages to the DLQ with their original bytes and a reason, and goes on', async () => {
    const logger = capturingLogger();
    const { bus, prefix } = await startBus({ logger });
    const handled: string[] = [];
    await bus.subscribe({
      groupId: `g-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      handler: async (message) => {
        handled.push(message.envelope.id);
      },
    });
    const valid = taskCompletedEnvelope();
    const key = valid.payload.workflowId;
    const { workflowId: _dropped, ...payloadWithoutWorkflow } = valid.payload;
    const malformed = [
      Buffer.from('{ this is not json'),
      Buffer.from(JSON.stringify({ ...valid, id: randomUUID(), payload: payloadWithoutWorkflow })),
      Buffer.from(JSON.stringify({ ...valid, id: randomUUID(), type: 'task.teleported' })),
    ];
    // Same key, so the same partition: the valid message is read after the malformed ones.
    await bus.publishRecords(malformed.map((value) => ({ topic: TOPICS.tasksResults, key, value })));
    await bus.publish(taskCompleted, valid);

    await eventually(() => (handled.includes(valid.id) ? true : undefined), 30_000, 'the valid message');
    expect(handled).toEqual([valid.id]);

    const physical = `${prefix}${TOPICS.tasksResults}`;
    const dead = await readTopic(brokers, dlqTopic(physical), 3);
    expect(dead.map((record) => record.value)).toEqual(malformed);
    expect(dead.map((record) => record.key)).toEqual([key, key, key]);
    const reasons = dead.map((record) => record.headers['baton-dlq-reason']);
    expect(reasons[0]).toMatch(/not JSON/);
    expect(reasons[1]).toMatch(/payload\.workflowId: required/);
    expect(reasons[2]).toMatch(/unknown message task\.teleported@1/);
    for (const record of dead) {
      expect(record.headers).toMatchObject({
        'baton-dlq-source-topic': physical,
        'baton-dlq-attempts': '0',
      });
      expect(record.headers['baton-dlq-source-partition']).toMatch(/^\d+$/);
      expect(record.headers['baton-dlq-source-offset']).toMatch(/^\d+$/);
      expect(Number.isNaN(Date.parse(record.headers['baton-dlq-failed-at'] ?? ''))).toBe(false);
    }
    expect(bus.stats().deadLettered).toBe(3);
    const logged = logger.lines.filter((line) => line.message === 'message dead-lettered');
    expect(logged.map((line) => line.fields['correlationId'])).toEqual([null, valid.correlationId, valid.correlationId]);
  });

  it('dead-letters a message whose handler always fails after maxAttempts, a non-retryable one at once, and goes on', async () => {
    const logger = capturingLogger();
    const { bus, prefix } = await startBus({ logger });
    const workflowId = randomUUID();
    const alwaysFails = taskCompletedEnvelope({ workflowId, stepId: 'always-fails' });
    const rejected = taskCompletedEnvelope({ workflowId, stepId: 'rejected' });
    const fine = taskCompletedEnvelope({ workflowId, stepId: 'fine' });
    const attempts = new Map<string, number>();
    const handled: string[] = [];
    await bus.subscribe({
      groupId: `g-${randomUUID()}`,
      topics: [TOPICS.tasksResults],
      handler: async ({ envelope }) => {
        attempts.set(envelope.id, (attempts.get(envelope.id) ?? 0) + 1);
        if (envelope.id === alwaysFails.id) throw new Error('downstream unavailable');
        if (envelope.id === rejected.id) throw new NonRetryableError('budget exhausted');
        handled.push(envelope.id);
      },
    });
    for (const envelope of [alwaysFails, rejected, fine]) await bus.publish(taskCompleted, envelope);

    await eventually(() => (handled.includes(fine.id) ? true : undefined), 30_000, 'the message after the failures');
    expect(attempts.get(alwaysFails.id)).toBe(3);
    expect(attempts.get(rejected.id)).toBe(1);

    const dead = await readTopic(brokers, dlqTopic(`${prefix}${TOPICS.tasksResults}`), 2);
    expect(dead.map((record) => record.value)).toEqual([serializeEnvelope(alwaysFails), serializeEnvelope(rejected)]);
    expect(dead.map((record) => record.headers['baton-dlq-attempts'])).toEqual(['3', '1']);
    expect(dead.map((record) => record.headers['baton-dlq-reason'])).toEqual([
      'downstream unavailable',
      'NonRetryableError: budget exhausted',
    ]);
    // The original headers travel with the dead letter.
    expect(dead[0]?.headers['baton-type']).toBe('task.completed');
    expect(bus.stats()).toMatchObject({ deadLettered: 2, retried: 2, handled: 1 });
    const logged = logger.lines.filter((line) => line.message === 'message dead-lettered');
    expect(logged.map((line) => line.fields['correlationId'])).toEqual([workflowId, workflowId]);
  });
});

describe('KafkaBus retries and commits', () => {
  it('retries a handler that fails twice, then commits once: the group never sees the message again', async () => {
    const { bus, prefix } = await startBus();
    const groupId = `g-${randomUUID()}`;
    const flaky = taskCompletedEnvelope();
    let attempts = 0;
    const first = await bus.subscribe({
      groupId,
      topics: [TOPICS.tasksResults],
      handler: async ({ envelope }) => {
        if (envelope.id !== flaky.id) return;
        attempts += 1;
        if (attempts <= 2) throw new Error(`transient failure ${attempts}`);
      },
    });
    await bus.publish(taskCompleted, flaky);
    await eventually(() => (bus.stats().handled === 1 ? true : undefined), 30_000, 'the third attempt');
    await first.close();
    expect(attempts).toBe(3);
    expect(bus.stats().retried).toBe(2);

    const physical = `${prefix}${TOPICS.tasksResults}`;
    const committed = [...(await committedOffsets(brokers, `${prefix}${groupId}`, physical)).values()].filter((offset) => offset !== '-1');
    expect(committed).toEqual(['1']);

    const marker = taskCompletedEnvelope({ workflowId: flaky.payload.workflowId });
    const seenBySecond: string[] = [];
    await bus.publish(taskCompleted, marker);
    await bus.subscribe({
      groupId,
      topics: [TOPICS.tasksResults],
      handler: async ({ envelope }) => {
        seenBySecond.push(envelope.id);
      },
    });
    await eventually(() => (seenBySecond.includes(marker.id) ? true : undefined), 30_000, 'the marker');
    expect(seenBySecond).toEqual([marker.id]);
  });
});
