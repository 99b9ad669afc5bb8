import { type Context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = () => trace.getTracer('@baton/bus');

export interface MessageSpanAttributes {
  /** Physical topic name, as Kafka and trace viewers know it. */
  topic: string;
  key: string | null;
  type: string;
}

function attributes(message: MessageSpanAttributes): Record<string, string> {
  return {
    'messaging.system': 'kafka',
    'messaging.destination.name': message.topic,
    ...(message.key !== null ? { 'messaging.kafka.message.key': message.key } : {}),
    'baton.message.type': message.type,
  };
}

export function startProducerSpan(parent: Context, message: MessageSpanAttributes): Span {
  return tracer().startSpan(
    `send ${message.topic}`,
    { kind: SpanKind.PRODUCER, attributes: { ...attributes(message), 'messaging.operation.type': 'send' } },
    parent,
  );
}

/** The consumer span's parent is the producer's span, carried in the headers. */
export function startConsumerSpan(remote: Context, message: MessageSpanAttributes): Span {
  return tracer().startSpan(
    `process ${message.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { ...attributes(message), 'messaging.operation.type': 'process' },
    },
    remote,
  );
}

export function endSpan(span: Span, error?: Error): void {
  if (error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
  span.end();
}
