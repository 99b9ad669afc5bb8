import { retryDelay } from './retry-delay';

describe('retryDelay', () => {
  const options = { baseMs: 100, maxMs: 1_000 };

  it('doubles from the base after each consecutive failure', () => {
    expect([1, 2, 3, 4].map((failures) => retryDelay(failures, options))).toEqual([100, 200, 400, 800]);
  });

  it('is capped, even after very many failures', () => {
    expect(retryDelay(5, options)).toBe(1_000);
    expect(retryDelay(10_000, options)).toBe(1_000);
  });

  it('is zero without a failure', () => {
    expect(retryDelay(0, options)).toBe(0);
  });
});
