import { ROOT_CONTEXT, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { decodeHeaders, extractTraceContext, traceHeaders } from './message-headers';

const spanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: 1,
  isRemote: false,
};

beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(() => {
  propagation.disable();
});

describe('trace context headers', () => {
  it('encodes the span of a context as a W3C traceparent', () => {
    const headers = traceHeaders(trace.setSpanContext(ROOT_CONTEXT, spanContext));
    expect(headers.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('writes nothing when there is no active span', () => {
    expect(traceHeaders(ROOT_CONTEXT)).toEqual({});
  });

  it('decodes what it encoded back into a remote span context', () => {
    const headers = traceHeaders(trace.setSpanContext(ROOT_CONTEXT, spanContext));
    const remote = trace.getSpanContext(extractTraceContext(headers));
    expect(remote).toMatchObject({
      traceId: spanContext.traceId,
      spanId: spanContext.spanId,
      isRemote: true,
    });
  });

  it('keeps tracestate', () => {
    const headers = {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=abc',
    };
    expect(traceHeaders(extractTraceContext(headers))).toEqual(headers);
  });
});

describe('decodeHeaders', () => {
  it('turns Kafka header bytes into strings, the last of a repeated header winning', () => {
    const decoded = decodeHeaders({
      traceparent: Buffer.from('00-abc'),
      'baton-type': 'task.completed',
      repeated: [Buffer.from('first'), 'second'],
      absent: undefined,
    });
    expect(decoded).toEqual({ traceparent: '00-abc', 'baton-type': 'task.completed', repeated: 'second' });
  });
});
