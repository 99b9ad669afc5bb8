import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { setImmediate as nextTick } from 'node:timers/promises';
import { startTelemetry, type TelemetryHandle } from './start-telemetry';
import { currentTraceId, extractTraceContext, injectTraceHeaders } from './trace-context';
import { withSpan } from './with-span';

const exporter = new InMemorySpanExporter();
// Export waits for async resource detection, so reads go through flushedSpans().
const processor = new SimpleSpanProcessor(exporter);
let telemetry: TelemetryHandle;

beforeAll(() => {
  telemetry = startTelemetry({
    serviceName: 'spec-producer',
    serviceVersion: '9.9.9',
    spanProcessors: [processor],
  });
});

afterAll(() => telemetry.shutdown());

beforeEach(() => exporter.reset());

async function flushedSpans() {
  await processor.forceFlush();
  return exporter.getFinishedSpans();
}

async function finishedSpan(name: string) {
  const span = (await flushedSpans()).find((candidate) => candidate.name === name);
  if (!span) throw new Error(`no finished span named ${name}`);
  return span;
}

describe('trace context propagation', () => {
  it('continues the producer trace in the consumer: same trace id, producer span as parent', async () => {
    const headers = await withSpan('publish baton.tasks.assigned', {}, async () => injectTraceHeaders(), {
      kind: SpanKind.PRODUCER,
    });
    expect(headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    await withSpan('process baton.tasks.assigned', {}, async () => undefined, {
      kind: SpanKind.CONSUMER,
      parent: extractTraceContext(headers),
    });

    const producer = await finishedSpan('publish baton.tasks.assigned');
    const consumer = await finishedSpan('process baton.tasks.assigned');
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(headers['traceparent']).toBe(`00-${producer.spanContext().traceId}-${producer.spanContext().spanId}-01`);
  });

  it('carries baggage next to the trace context', () => {
    const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ team: { value: 'payments' } }));
    const headers = injectTraceHeaders(withBaggage);
    expect(propagation.getBaggage(extractTraceContext(headers))?.getEntry('team')?.value).toBe('payments');
  });

  it('reads headers whatever their case', async () => {
    const headers = await withSpan('producer', {}, async () => injectTraceHeaders());
    const shouted = { TRACEPARENT: headers['traceparent'] };
    const spanContext = trace.getSpanContext(extractTraceContext(shouted));
    expect(spanContext?.traceId).toBe((await finishedSpan('producer')).spanContext().traceId);
  });

  it('starts a new trace when a message carries no trace context', async () => {
    const parent = extractTraceContext({});
    await withSpan('orphan', {}, async () => undefined, { parent });
    expect((await finishedSpan('orphan')).parentSpanContext).toBeUndefined();
  });

  it('keeps the active span across awaits (AsyncLocalStorage context manager)', async () => {
    const seen = await withSpan('outer', {}, async (span) => {
      await nextTick();
      return { expected: span.spanContext().traceId, afterAwait: currentTraceId() };
    });
    expect(seen.afterAwait).toBe(seen.expected);
    expect(currentTraceId()).toBeUndefined();
  });

  it('injects nothing outside a span', () => {
    expect(injectTraceHeaders()).toEqual({});
  });
});

describe('startTelemetry', () => {
  it('is idempotent: a second call returns the first handle', () => {
    expect(startTelemetry({ serviceName: 'someone-else' })).toBe(telemetry);
  });

  it('names the service and version on every span', async () => {
    await withSpan('named', {}, async () => undefined);
    const { attributes } = (await finishedSpan('named')).resource;
    expect(attributes['service.name']).toBe('spec-producer');
    expect(attributes['service.version']).toBe('9.9.9');
  });
});
