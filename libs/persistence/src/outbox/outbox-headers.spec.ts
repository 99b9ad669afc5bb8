import { ROOT_CONTEXT, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { createEnvelope, workflowCompleted } from '@baton/contracts';
import { buildOutboxHeaders } from './outbox-headers';

const envelope = createEnvelope(
  workflowCompleted,
  { workflowId: '4b1d8f0e-2c1a-4f3e-9d7a-0a1b2c3d4e5f', output: { ok: true } },
  { source: 'router', correlationId: 'wf-1' },
);

describe('buildOutboxHeaders', () => {
  beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
  afterAll(() => propagation.disable());

  it('carries the message type and version', () => {
    const headers = buildOutboxHeaders(envelope, ROOT_CONTEXT);
    expect(headers).toEqual({ 'baton-type': 'workflow.completed', 'baton-version': '1' });
  });

  it('captures the caller trace context as W3C traceparent so the trace continues after the relay', () => {
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: false,
    };
    const headers = buildOutboxHeaders(envelope, trace.setSpanContext(ROOT_CONTEXT, spanContext));
    expect(headers['traceparent']).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(headers['baton-type']).toBe('workflow.completed');
  });
});
