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
import { bindOnEveryProvider, meterProviderEpoch } from './meter-provider-epoch';

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
          add: (value: number, attributes?: Attributes, context?: Context) => current().add(value, attributes, context),
        };
      }),
    upDownCounter: (name, options) =>
      once(`upDownCounter:${name}`, () => {
        const current = bound(() => meter().createUpDownCounter(name, options));
        return {
          add: (value: number, attributes?: Attributes, context?: Context) => current().add(value, attributes, context),
        };
      }),
    histogram: (name, options) =>
      once(`histogram:${name}`, () => {
        const current = bound(() => meter().createHistogram(name, options));
        return {
          record: (value: number, attributes?: Attributes, context?: Context) => current().record(value, attributes, context),
        };
      }),
    gauge: (name, read, options) =>
      once(`gauge:${name}`, () => {
        bindOnEveryProvider(() => {
          meter()
            .createObservableGauge(name, options)
            .addCallback((result: ObservableResult) => {
              const reading = read();
              const readings = typeof reading === 'number' ? [{ value: reading }] : reading;
              for (const { value, attributes } of readings) {
                result.observe(value, attributes);
              }
            });
        });
      }),
  };
}

/** The instrument for the current provider, recreated after a rebind. */
function bound<T>(create: () => T): () => T {
  let cached: { epoch: number; instrument: T } | undefined;
  return () => {
    if (cached?.epoch !== meterProviderEpoch()) cached = { epoch: meterProviderEpoch(), instrument: create() };
    return cached.instrument;
  };
}
