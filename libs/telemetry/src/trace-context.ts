import { type Context, context, isSpanContextValid, propagation, ROOT_CONTEXT, type TextMapGetter, trace } from '@opentelemetry/api';

/**
 * W3C trace-context (and baggage) headers for the active context, to put on an
 * outgoing message. Empty when no span is active or no propagator is registered.
 */
export function injectTraceHeaders(from: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(from, headers);
  return headers;
}

const headerGetter: TextMapGetter<Record<string, string | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key] ?? findIgnoringCase(carrier, key),
};

/**
 * The context carried by an incoming message's headers, to parent the
 * consumer's span. It starts from the root context on purpose: a message
 * belongs to its producer's trace, not to whatever the consumer loop had active.
 */
export function extractTraceContext(headers: Record<string, string | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** The trace id of the active span, if there is a valid one. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

function findIgnoringCase(carrier: Record<string, string | undefined>, key: string): string | undefined {
  const wanted = key.toLowerCase();
  for (const [name, value] of Object.entries(carrier)) {
    if (name.toLowerCase() === wanted) return value;
  }
  return undefined;
}
