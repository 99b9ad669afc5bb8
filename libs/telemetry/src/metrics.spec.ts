import { createMetrics } from './metrics';
import { startTelemetry, type TelemetryHandle } from './start-telemetry';
import { OnDemandMetricReader } from './testing/on-demand-metric-reader';

const reader = new OnDemandMetricReader();
let telemetry: TelemetryHandle;

beforeAll(() => {
  telemetry = startTelemetry({ serviceName: 'spec-metrics', metricReaders: [reader] });
});

afterAll(() => telemetry.shutdown());

async function collected(name: string) {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const metric = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((candidate) => candidate.descriptor.name === name);
  if (!metric) throw new Error(`metric ${name} was not collected`);
  return { metric, resource: resourceMetrics.resource };
}

// Created before startTelemetry() runs (beforeAll), like a module-level meter in a service.
const meter = createMetrics('spec');

describe('createMetrics', () => {
  it('records counters per attribute set, on the service resource', async () => {
    meter.counter('baton.spec.messages', { unit: '{message}' }).add(2, { topic: 'a' });
    meter.counter('baton.spec.messages').add(3, { topic: 'a' });
    meter.counter('baton.spec.messages').add(1, { topic: 'b' });

    const { metric, resource } = await collected('baton.spec.messages');
    expect(metric.descriptor.unit).toBe('{message}');
    const points = metric.dataPoints.map((point) => [point.attributes['topic'], point.value]);
    expect(points).toEqual(
      expect.arrayContaining([
        ['a', 5],
        ['b', 1],
      ]),
    );
    expect(resource.attributes['service.name']).toBe('spec-metrics');
  });

  it('returns the same instrument for the same name', () => {
    expect(meter.histogram('baton.spec.latency')).toBe(meter.histogram('baton.spec.latency'));
  });

  it('records histograms', async () => {
    meter.histogram('baton.spec.step.duration', { unit: 'ms' }).record(120);
    meter.histogram('baton.spec.step.duration').record(80);
    const { metric } = await collected('baton.spec.step.duration');
    expect(metric.dataPoints[0]?.value).toMatchObject({ count: 2, sum: 200, min: 80, max: 120 });
  });

  it('reads gauges at collection time', async () => {
    let depth = 3;
    meter.gauge('baton.spec.inbox.depth', () => [{ value: depth, attributes: { team: 'sre' } }]);
    expect((await collected('baton.spec.inbox.depth')).metric.dataPoints[0]?.value).toBe(3);
    depth = 7;
    expect((await collected('baton.spec.inbox.depth')).metric.dataPoints[0]?.value).toBe(7);
  });
});
