export interface RetryDelayOptions {
  baseMs: number;
  maxMs: number;
}

/** Exponential backoff after `failures` consecutive failures (1 = first), capped. */
export function retryDelay(failures: number, { baseMs, maxMs }: RetryDelayOptions): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 30);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}
