// The metrics API has no proxy provider: a meter taken before the SDK is
// registered stays a no-op forever. Module-level `createMetrics()` calls run
// before main.ts reaches startTelemetry(), so instruments bind lazily and are
// rebound whenever telemetry registers a provider. Internal: not exported from index.ts.

let epoch = 0;
const rebinders: Array<() => void> = [];

/** Changes each time a MeterProvider is registered; instruments compare it to know they are stale. */
export function meterProviderEpoch(): number {
  return epoch;
}

/** Runs `bind` now and again after every provider change (for callbacks, which are never "used"). */
export function bindOnEveryProvider(bind: () => void): void {
  bind();
  rebinders.push(bind);
}

/** Called by startTelemetry once the SDK's MeterProvider is the global one. */
export function meterProviderChanged(): void {
  epoch += 1;
  for (const bind of rebinders) bind();
}
