import { type Context, context } from '@opentelemetry/api';
import { HEADERS } from '@baton/bus';
import type { Envelope } from '@baton/contracts';
import { injectTraceHeaders } from '@baton/telemetry';

/**
 * Kafka headers stored with an outbox row. The trace context is captured at
 * enqueue time, inside the caller's span, because by the time the relay sends
 * the row that span is long gone; consumers continue the same trace.
 */
export function buildOutboxHeaders(envelope: Envelope, activeContext: Context = context.active()): Record<string, string> {
  return {
    ...injectTraceHeaders(activeContext),
    [HEADERS.type]: envelope.type,
    [HEADERS.version]: String(envelope.version),
  };
}
