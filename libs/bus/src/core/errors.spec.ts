import { HandlerFailedError, NonRetryableError, isRetryable, toError } from './errors';

describe('isRetryable', () => {
  it('retries ordinary errors', () => {
    expect(isRetryable(new Error('connection reset'))).toBe(true);
    expect(isRetryable('a string')).toBe(true);
  });

  it('does not retry NonRetryableError or anything marked retryable: false', () => {
    expect(isRetryable(new NonRetryableError('no'))).toBe(false);
    expect(isRetryable(Object.assign(new Error('policy denied'), { retryable: false }))).toBe(false);
    expect(isRetryable({ code: 'x', retryable: false })).toBe(false);
    expect(isRetryable(Object.assign(new Error('flaky'), { retryable: true }))).toBe(true);
  });
});

describe('toError', () => {
  it('wraps thrown non-errors, keeping their message', () => {
    const wrapped = toError({ status: 'error', message: 'Internal server error' });
    expect(wrapped).toBeInstanceOf(HandlerFailedError);
    expect(wrapped.message).toBe('Internal server error');
  });
});
