import { metrics as sdkMetrics } from '@opentelemetry/sdk-node';

export interface CollectedPoint {
  attributes: Record<string, unknown>;
  /** A number for counters and gauges; `{ count, sum, min, max, ... }` for histograms. */
  value: unknown;
}

/**
 * A metric reader a test collects on demand (pass it to startTelemetry's
 * `metricReaders`), so it reads exactly what the SDK aggregated, with no
 * export interval to wait for.
 */
export class OnDemandMetricReader extends sdkMetrics.MetricReader {
  // Nothing is buffered: collect() reads the SDK's aggregation directly.
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }

  /** The data points of metric `name` now; none when it was never recorded. Collection errors throw. */
  async points(name: string): Promise<CollectedPoint[]> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw new Error(`metric collection failed: ${errors.map(String).join('; ')}`);
    const metric = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((candidate) => candidate.descriptor.name === name);
    return (metric?.dataPoints ?? []).map((point) => ({ attributes: point.attributes, value: point.value }));
  }
}
