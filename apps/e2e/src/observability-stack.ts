/**
 * The local observability stack of docker-compose.yml (profile `observability`) as
 * files: what its Grafana dashboard asks Prometheus for, and how the collector's
 * Prometheus exporter names what the services send (add_metric_suffixes: false).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const OBSERVABILITY_DIR = join(REPO_ROOT, 'deploy', 'observability');
export const DASHBOARD_FILE = join(OBSERVABILITY_DIR, 'grafana', 'dashboards', 'baton-overview.json');

interface DashboardPanel {
  title: string;
  datasource: { uid: string };
  targets: Array<{ expr: string; datasource: { uid: string } }>;
}

export function dashboardPanels(): DashboardPanel[] {
  return (JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: DashboardPanel[] }).panels;
}

/** Each query's metrics and the labels it groups by. */
export function dashboardQueries(): Array<{ panel: string; expr: string; metrics: string[]; labels: string[] }> {
  return dashboardPanels().flatMap((panel) =>
    panel.targets.map(({ expr }) => {
      const labels = [
        ...new Set([...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((match) => (match[1] ?? '').split(',').map((label) => label.trim()))),
      ];
      // Our labels start with baton_ too (baton.capability): a metric is a baton_ name that is not grouped by.
      const metrics = [...new Set(expr.match(/\bbaton_[a-z_]+/g) ?? [])].filter((name) => !labels.includes(name));
      return { panel: panel.title, expr, metrics, labels };
    }),
  );
}

export type OtlpKind = 'histogram' | 'sum' | 'gauge';

/** The Prometheus series names the collector exports for an OTLP metric, and the labels they carry. */
export function prometheusSeriesOf(
  name: string,
  kind: OtlpKind,
  attributes: readonly string[],
): Array<{ series: string; labels: Set<string> }> {
  const base = name.replace(/[^a-zA-Z0-9_]/g, '_');
  const labels = attributes.map((attribute) => attribute.replace(/[^a-zA-Z0-9_]/g, '_'));
  if (kind !== 'histogram') return [{ series: base, labels: new Set(labels) }];
  return [
    { series: `${base}_bucket`, labels: new Set([...labels, 'le']) },
    { series: `${base}_sum`, labels: new Set(labels) },
    { series: `${base}_count`, labels: new Set(labels) },
  ];
}
