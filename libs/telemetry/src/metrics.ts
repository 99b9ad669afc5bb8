import {
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Meter,
  metrics,
  type MetricOptions,
  type ObservableResult,
  type UpDownCounter,
} from '@opentelemetry/api';

/**
 * Instruments of one meter, created once per name so callers can ask for them
 * where they are used. Before telemetry starts (or when metrics are not
 * configured) they record nothing, so code never checks.
 */
export interface Metrics {
  counter(name: string, options?: MetricOptions): Counter;
  upDownCounter(name: string, options?: MetricOptions): UpDownCounter;
  histogram(name: string, options?: MetricOptions): Histogram;
  /** A gauge read at each collection, e.g. inbox depth or consumer lag. The first `read` for a name wins. */
  gauge(name: string, read: () => number | GaugeReading[], options?: MetricOptions): void;
}

export interface GaugeReading {
  value: number;
  attributes?: Attributes;
}

// The metrics API has no proxy provider: a meter taken before the SDK is
// registered stays a no-op forever. Module-level `createMetrics()` calls run
// before main.ts reaches startTelemetry(), so instruments bind lazily and are
// rebound whenever telemetry (re)registers a provider.
let providerEpoch = 0;
const gaugeRegistrations: Array<() => void> = [];

/** Called by startTelemetry once the SDK's MeterProvider is the global one. */
export function rebindMetrics(): void {
  providerEpoch += 1;
  for (const register of gaugeRegistrations) register();
}

export function createMetrics(meterName: string, meterVersion?: string): Metrics {
  const meter = (): Meter => metrics.getMeter(meterName, meterVersion);
  const instruments = new Map<string, unknown>();
  const once = <T>(key: string, create: () => T): T => {
    if (!instruments.has(key)) instruments.set(key, create());
    return instruments.get(key) as T;
  };

  return {
    counter: (name, options) =>
      once(`counter:${name}`, () => {
        const current = bound(() => meter().createCounter(name, options));
        return {
          add: (value: number, attributes?: Attributes, context?: Context) =>
            current().add(value, attributes, context),
        };
      }),
    upDownCounter: (name, options) =>
      once(`upDownCounter:${name}`, () => {
        const current = bound(() => meter().createUpDownCounter(name, options));
        return {
          add: (value: number, attributes?: Attributes, context?: Context) =>
            current().add(value, attributes, context),
        };
      }),
    histogram: (name, options) =>
      once(`histogram:${name}`, () => {
        const current = bound(() => meter().createHistogram(name, options));
        return {
          record: (value: number, attributes?: Attributes, context?: Context) =>
            current().record(value, attributes, context),
        };
      }),
    gauge: (name, read, options) =>
      once(`gauge:${name}`, () => {
        const register = (): void => {
          meter()
            .createObservableGauge(name, options)
            .addCallback((result: ObservableResult) => {
              const reading = read();
              for (const { value, attributes } of typeof reading === 'number'
                ? [{ value: reading }]
                : reading) {
                result.observe(value, attributes);
              }
            });
        };
        register();
        gaugeRegistrations.push(register);
      }),
  };
}

/** The instrument for the current provider, recreated after a rebind. */
function bound<T>(create: () => T): () => T {
  let cached: { epoch: number; instrument: T } | undefined;
  return () => {
    if (cached?.epoch !== providerEpoch) cached = { epoch: providerEpoch, instrument: create() };
    return cached.instrument;
  };
}
