export interface EventuallyOptions {
  /** Give up after this long; default 10 s. */
  timeoutMs?: number;
  /** Pause between attempts; default 100 ms. */
  intervalMs?: number;
}

/**
 * Retries an assertion until it passes, for effects that arrive asynchronously (a
 * consumed event, a projected row). On timeout it rethrows the last assertion error, so
 * the failure reads like the assertion itself rather than "timed out".
 */
export async function expectEventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      return await fn();
    } catch (err) {
      if (Date.now() + intervalMs > deadline) {
        if (err instanceof Error) {
          err.message = `expectEventually: still failing after ${timeoutMs} ms (${attempts} attempts): ${err.message}`;
          throw err;
        }
        throw new Error(`expectEventually: still failing after ${timeoutMs} ms (${attempts} attempts): ${String(err)}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
