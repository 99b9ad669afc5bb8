/**
 * A fake OpenTelemetry collector for end-to-end tests: a real HTTP server
 * taking OTLP/HTTP in its JSON encoding (OTEL_EXPORTER_OTLP_*_PROTOCOL=http/json
 * for metrics; the trace exporter speaks JSON by default), as the services
 * export to an operator's collector.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** OTLP/JSON as the exporters send it (the fields these tests read). */
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}
interface OtlpPoint {
  attributes?: OtlpAttribute[];
  asInt?: number | string;
  asDouble?: number;
  count?: number | string;
  sum?: number;
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: OtlpPoint[] };
  gauge?: { dataPoints: OtlpPoint[] };
  histogram?: { dataPoints: OtlpPoint[] };
}
interface OtlpMetricsExport {
  resourceMetrics: Array<{ resource: { attributes: OtlpAttribute[] }; scopeMetrics: Array<{ metrics: OtlpMetric[] }> }>;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: OtlpAttribute[];
  links?: Array<{ traceId: string; spanId: string }>;
}
interface OtlpTracesExport {
  resourceSpans: Array<{ resource: { attributes: OtlpAttribute[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

export interface MetricPoint {
  service: string;
  unit: string | undefined;
  attributes: Record<string, string>;
  /** Counter sum or gauge value. */
  value: number;
  /** Histograms. */
  count: number;
  sum: number;
}

export interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a trace's root. */
  parentSpanId: string;
  name: string;
  attributes: Record<string, string>;
  links: Array<{ traceId: string; spanId: string }>;
}

function attributesOf(list: readonly OtlpAttribute[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (list ?? []).map(({ key, value }) => [key, String(value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue)]),
  );
}

export class OtlpCollector {
  private server: Server | undefined;
  private readonly metricExports: OtlpMetricsExport[] = [];
  private readonly exportedSpans: ExportedSpan[] = [];

  /** Listens on a free port; returns the base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  async start(): Promise<string> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (request.url === '/v1/metrics') this.metricExports.push(JSON.parse(body) as OtlpMetricsExport);
        if (request.url === '/v1/traces') this.receiveSpans(JSON.parse(body) as OtlpTracesExport);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The points of `name` in each service's latest export that has it (temporality is cumulative: the latest holds the totals). */
  latest(name: string): MetricPoint[] {
    const byService = new Map<string, MetricPoint[]>();
    for (const exported of this.metricExports) {
      for (const { resource, scopeMetrics } of exported.resourceMetrics) {
        const service = attributesOf(resource.attributes)['service.name'] ?? 'unknown';
        const points = scopeMetrics
          .flatMap((scope) => scope.metrics)
          .filter((metric) => metric.name === name)
          .flatMap(
            (metric) =>
              (metric.sum ?? metric.gauge ?? metric.histogram)?.dataPoints.map((point) => ({
                service,
                unit: metric.unit,
                attributes: attributesOf(point.attributes),
                value: Number(point.asDouble ?? point.asInt ?? Number.NaN),
                count: Number(point.count ?? 0),
                sum: Number(point.sum ?? 0),
              })) ?? [],
          );
        if (points.length > 0) byService.set(service, points);
      }
    }
    return [...byService.values()].flat();
  }

  /** Every metric received so far: its kind and every attribute key any of its points carried. */
  catalog(): Array<{ name: string; kind: 'histogram' | 'sum' | 'gauge'; attributes: string[] }> {
    const byName = new Map<string, { kind: 'histogram' | 'sum' | 'gauge'; attributes: Set<string> }>();
    for (const exported of this.metricExports) {
      for (const metric of exported.resourceMetrics.flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))) {
        const kind = metric.histogram ? 'histogram' : metric.sum ? 'sum' : 'gauge';
        const entry = byName.get(metric.name) ?? { kind, attributes: new Set<string>() };
        for (const point of (metric.histogram ?? metric.sum ?? metric.gauge)?.dataPoints ?? []) {
          for (const attribute of point.attributes ?? []) entry.attributes.add(attribute.key);
        }
        byName.set(metric.name, entry);
      }
    }
    return [...byName].map(([name, { kind, attributes }]) => ({ name, kind, attributes: [...attributes] }));
  }

  /** Every span received so far, from every service. */
  spans(): ExportedSpan[] {
    return [...this.exportedSpans];
  }

  private receiveSpans(exported: OtlpTracesExport): void {
    for (const { resource, scopeSpans } of exported.resourceSpans) {
      const service = attributesOf(resource.attributes)['service.name'] ?? 'unknown';
      for (const span of scopeSpans.flatMap((scope) => scope.spans)) {
        this.exportedSpans.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          attributes: attributesOf(span.attributes),
          links: span.links ?? [],
        });
      }
    }
  }
}
