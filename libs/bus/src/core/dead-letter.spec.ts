import { ContractValidationError } from '@baton/contracts';
import { buildDeadLetterHeaders, deadLetterReason, peekCorrelationId } from './dead-letter';
import { NonRetryableError } from './errors';

describe('dead-letter headers', () => {
  const source = {
    topic: 't-1.baton.tasks.results',
    partition: 3,
    offset: '42',
    headers: { traceparent: '00-aa-bb-01', 'baton-type': 'task.completed' },
  };

  it('keeps the original headers and records where the message came from and why it failed', () => {
    const headers = buildDeadLetterHeaders(source, 'payload.workflowId: required', 5, new Date('2026-01-02T03:04:05.000Z'));
    expect(headers).toEqual({
      traceparent: '00-aa-bb-01',
      'baton-type': 'task.completed',
      'baton-dlq-reason': 'payload.workflowId: required',
      'baton-dlq-source-topic': 't-1.baton.tasks.results',
      'baton-dlq-source-partition': '3',
      'baton-dlq-source-offset': '42',
      'baton-dlq-attempts': '5',
      'baton-dlq-failed-at': '2026-01-02T03:04:05.000Z',
    });
  });

  it('names the offending field for validation errors', () => {
    const error = new ContractValidationError(['payload.workflowId: required'], 'invalid task.completed@1');
    expect(deadLetterReason(error)).toBe('invalid task.completed@1: payload.workflowId: required');
  });

  it('names the error class of typed errors', () => {
    expect(deadLetterReason(new NonRetryableError('budget exhausted'))).toBe('NonRetryableError: budget exhausted');
    expect(deadLetterReason(new Error('boom'))).toBe('boom');
  });
});

describe('peekCorrelationId', () => {
  it('reads the correlation id of invalid but parseable JSON, and nothing otherwise', () => {
    expect(peekCorrelationId(Buffer.from(JSON.stringify({ correlationId: 'wf-7', type: 'unknown' })))).toBe('wf-7');
    expect(peekCorrelationId(Buffer.from('{ not json'))).toBeUndefined();
    expect(peekCorrelationId(Buffer.from('[1]'))).toBeUndefined();
    expect(peekCorrelationId(null)).toBeUndefined();
  });
});
