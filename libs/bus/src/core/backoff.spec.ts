import { backoffDelayMs } from './backoff';

const retry = { maxAttempts: 6, initialBackoffMs: 100, maxBackoffMs: 1000 };

describe('backoffDelayMs', () => {
  it('doubles from the initial delay with each attempt', () => {
    const upper = [2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, retry, () => 1));
    expect(upper).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the maximum', () => {
    expect(backoffDelayMs(10, retry, () => 1)).toBe(1000);
    expect(backoffDelayMs(60, retry, () => 1)).toBe(1000);
  });

  it('keeps half of the delay fixed and jitters the other half', () => {
    expect(backoffDelayMs(3, retry, () => 0)).toBe(100);
    expect(backoffDelayMs(3, retry, () => 0.5)).toBe(150);
    expect(backoffDelayMs(3, retry, () => 0.999)).toBeLessThanOrEqual(200);
  });

  it('is zero when no backoff is configured', () => {
    expect(backoffDelayMs(4, { maxAttempts: 3, initialBackoffMs: 0, maxBackoffMs: 0 })).toBe(0);
  });
});
