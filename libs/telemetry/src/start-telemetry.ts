import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { type metrics as sdkMetrics, NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { meterProviderChanged } from './meter-provider-epoch';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /**
   * OTLP/HTTP base URL (`http://collector:4318`); traces go to `<base>/v1/traces`.
   * Defaults to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full URL) or OTEL_EXPORTER_OTLP_ENDPOINT.
   * Without any, spans are created and propagated but not exported.
   */
  otlpEndpoint?: string;
  /** Extra span processors, e.g. an in-memory exporter in tests. */
  spanProcessors?: readonly SpanProcessor[];
  /**
   * Metric readers. By default metrics follow the standard OTEL_* variables:
   * exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT (or _METRICS_ENDPOINT,
   * or OTEL_METRICS_EXPORTER) is set, otherwise not collected at all.
   */
  metricReaders?: readonly sdkMetrics.IMetricReader[];
}

export interface TelemetryHandle {
  /** Flushes pending spans and stops exporting. Safe to call more than once. */
  shutdown(): Promise<void>;
}

let started: TelemetryHandle | undefined;

/**
 * Starts OpenTelemetry for this process: resource, W3C trace-context + baggage
 * propagation, an AsyncLocalStorage context manager (NodeSDK's default) and,
 * when an endpoint is configured, OTLP/HTTP trace export.
 *
 * Call it first thing in main.ts. The API's globals can be registered only
 * once per process, so later calls return the first handle and ignore their
 * options.
 */
export function startTelemetry(options: TelemetryOptions): TelemetryHandle {
  if (started) return started;

  const tracesUrl = resolveTracesUrl(options.otlpEndpoint);
  const spanProcessors: SpanProcessor[] = [
    // Without an exporter a processor must still exist, otherwise NodeSDK
    // registers no tracer provider and spans would carry no ids to propagate.
    tracesUrl !== undefined ? new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl })) : new NoopSpanProcessor(),
    ...(options.spanProcessors ?? []),
  ];

  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        ...(options.serviceVersion !== undefined ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
      }),
    ),
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    spanProcessors,
    ...(metricReadersFor(options) ?? {}),
    // Logs go to stdout as JSON lines (JsonLogger), not through OTLP.
    logRecordProcessors: [],
  });
  sdk.start();
  meterProviderChanged();

  let stopping: Promise<void> | undefined;
  started = {
    shutdown: () => {
      stopping ??= sdk.shutdown();
      return stopping;
    },
  };
  return started;
}

/**
 * Undefined lets NodeSDK build OTLP metric readers from the OTEL_* variables;
 * an empty list stops it, since its default would push to a localhost
 * collector that may not exist.
 */
function metricReadersFor(options: TelemetryOptions): { metricReaders: sdkMetrics.IMetricReader[] } | undefined {
  if (options.metricReaders !== undefined) return { metricReaders: [...options.metricReaders] };
  const configured = ['OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'].some(
    (name) => nonEmpty(process.env[name]) !== undefined,
  );
  return configured ? undefined : { metricReaders: [] };
}

function resolveTracesUrl(otlpEndpoint: string | undefined): string | undefined {
  const base = nonEmpty(otlpEndpoint);
  if (base !== undefined) return tracesUrlFromBase(base);
  const signalSpecific = nonEmpty(process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  if (signalSpecific !== undefined) return signalSpecific;
  const envBase = nonEmpty(process.env['OTEL_EXPORTER_OTLP_ENDPOINT']);
  return envBase !== undefined ? tracesUrlFromBase(envBase) : undefined;
}

/** The OTLP spec appends the signal path to the base endpoint. */
function tracesUrlFromBase(base: string): string {
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
