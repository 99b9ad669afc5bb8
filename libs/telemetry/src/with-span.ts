import { type Attributes, type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

export interface WithSpanOptions {
  kind?: SpanKind;
  /** Parent context, e.g. from `extractTraceContext(headers)`; defaults to the active context. */
  parent?: Context;
}

const TRACER_NAME = '@baton/telemetry';

/**
 * Runs `fn` inside a new active span and always ends it. A thrown error is
 * recorded on the span, which gets ERROR status, and is rethrown unchanged.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  options: WithSpanOptions = {},
): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        markSpanFailed(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Records `error` on `span` and sets its status to ERROR. */
export function markSpanFailed(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
  } else {
    span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}
