import type { ResolvedRetry } from './bus-config';

/**
 * Delay before attempt `nextAttempt` (2 = the first retry): exponential from
 * `initialBackoffMs`, capped at `maxBackoffMs`, with "equal jitter" (half fixed,
 * half random) so consumers that failed together do not retry in lockstep
 * while the delay still grows with every attempt.
 */
export function backoffDelayMs(nextAttempt: number, retry: ResolvedRetry, random: () => number = Math.random): number {
  const exponent = Math.max(0, nextAttempt - 2);
  const ceiling = Math.min(retry.maxBackoffMs, retry.initialBackoffMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + half * random());
}
