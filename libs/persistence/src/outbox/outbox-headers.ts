import { type Context, context, propagation } from '@opentelemetry/api';
import type { Envelope } from '@baton/contracts';

export const HEADER_TYPE = 'baton-type';
export const HEADER_VERSION = 'baton-version';

/**
 * Kafka headers stored with an outbox row. The trace context is captured at
 * enqueue time, inside the caller's span, because by the time the relay sends
 * the row that span is long gone; consumers continue the same trace.
 */
export function buildOutboxHeaders(envelope: Envelope, activeContext: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(activeContext, carrier);
  return {
    ...carrier,
    [HEADER_TYPE]: envelope.type,
    [HEADER_VERSION]: String(envelope.version),
  };
}
