import { expectEventually } from './expect-eventually';

describe('expectEventually', () => {
  it('returns once the assertion passes', async () => {
    let calls = 0;
    const value = await expectEventually(
      () => {
        calls++;
        expect(calls).toBeGreaterThanOrEqual(3);
        return calls;
      },
      { timeoutMs: 2_000, intervalMs: 10 },
    );
    expect(value).toBe(3);
  });

  it('fails with the last assertion error when the condition never holds', async () => {
    let calls = 0;
    const started = Date.now();
    const failure = await expectEventually(
      () => {
        calls++;
        expect(`attempt ${calls}`).toBe('never');
      },
      { timeoutMs: 300, intervalMs: 20 },
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toContain('still failing after 300 ms');
    expect(message).toContain(`attempt ${calls}`);
    expect(calls).toBeGreaterThan(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
