import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, type TelemetryHandle } from './start-telemetry';
import { withSpan } from './with-span';

const exporter = new InMemorySpanExporter();
// Export waits for async resource detection, so reads go through flushedSpans().
const processor = new SimpleSpanProcessor(exporter);
let telemetry: TelemetryHandle;

beforeAll(() => {
  telemetry = startTelemetry({ serviceName: 'spec-spans', spanProcessors: [processor] });
});

afterAll(() => telemetry.shutdown());

beforeEach(() => exporter.reset());

async function flushedSpans() {
  await processor.forceFlush();
  return exporter.getFinishedSpans();
}

class StepTimeoutError extends Error {
  override readonly name = 'StepTimeoutError';
}

describe('withSpan', () => {
  it('ends the span, keeps its attributes and returns the result', async () => {
    const result = await withSpan('route step', { 'baton.step.id': 'triage' }, async () => 42);
    expect(result).toBe(42);
    const [span] = await flushedSpans();
    expect(span?.name).toBe('route step');
    expect(span?.attributes['baton.step.id']).toBe('triage');
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('marks a failure: ERROR status, the exception recorded, the error rethrown unchanged', async () => {
    const failure = new StepTimeoutError('step triage timed out');
    await expect(
      withSpan('run step', {}, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);

    const [span] = await flushedSpans();
    expect(span?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'StepTimeoutError: step triage timed out',
    });
    const exception = span?.events.find((event) => event.name === 'exception');
    expect(exception?.attributes?.['exception.type']).toBe('StepTimeoutError');
    expect(exception?.attributes?.['exception.message']).toBe('step triage timed out');
  });

  it('marks a failure with a thrown non-Error value', async () => {
    await expect(
      withSpan('odd', {}, async () => {
        throw 'plain string';
      }),
    ).rejects.toBe('plain string');
    expect((await flushedSpans())[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('nests: a span started inside another is its child', async () => {
    await withSpan('parent', {}, () => withSpan('child', {}, async () => undefined));
    const spans = await flushedSpans();
    const parent = spans.find((span) => span.name === 'parent');
    const child = spans.find((span) => span.name === 'child');
    expect(child?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(child?.spanContext().traceId).toBe(parent?.spanContext().traceId);
  });
});
