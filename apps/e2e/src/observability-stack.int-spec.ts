/**
 * The observability stack of docker-compose.yml (profile `observability`: collector, Jaeger, Prometheus,
 * Grafana) cannot run here (no Docker engine), so this checks that its parts are wired to each other as
 * files: what each mounts exists, the collector's pipelines use what it defines and send traces to Jaeger,
 * Prometheus scrapes the collector's exporter, Grafana's data sources and dashboard point at them. That the
 * dashboard's queries match what the services export is checked in metrics-export.int-spec.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { dashboardPanels, OBSERVABILITY_DIR, REPO_ROOT } from './observability-stack';

interface ComposeService {
  profiles?: string[];
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}
interface CollectorConfig {
  receivers: Record<string, { protocols?: Record<string, { endpoint: string }> }>;
  processors?: Record<string, unknown>;
  exporters: Record<string, { endpoint: string }>;
  service: { pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }> };
}

const STACK = ['otel-collector', 'jaeger', 'prometheus', 'grafana'];
const readYaml = <T>(path: string): T => parse(readFileSync(path, 'utf8')) as T;
const hostOf = (url: string): string => new URL(url.includes('://') ? url : `http://${url}`).hostname;
const portOf = (address: string): string => address.slice(address.lastIndexOf(':') + 1);

describe('the observability stack of docker-compose.yml', () => {
  const compose = readYaml<{ services: Record<string, ComposeService> }>(join(REPO_ROOT, 'docker-compose.yml'));
  const services = compose.services;
  /** Host path -> container path of each service's bind mounts. */
  const mounts = (service: string): Array<{ host: string; container: string }> =>
    (services[service]?.volumes ?? [])
      .filter((volume) => volume.startsWith('./'))
      .map((volume) => {
        const [host, container] = volume.split(':');
        return { host: join(REPO_ROOT, host!), container: container! };
      });

  it('runs only under its profile, so `npm run infra:up` starts just Kafka, Postgres and Neo4j', () => {
    for (const name of STACK) expect({ name, profiles: services[name]?.profiles }).toEqual({ name, profiles: ['observability'] });
    const unprofiled = Object.entries(services)
      .filter(([, service]) => service.profiles === undefined)
      .map(([name]) => name);
    expect(unprofiled.sort()).toEqual(['kafka', 'neo4j', 'postgres']);
  });

  it('mounts only files that exist', () => {
    const missing = STACK.flatMap((name) => mounts(name)).filter(({ host }) => !existsSync(host));
    expect(missing).toEqual([]);
  });

  it('collects OTLP on the published port and sends traces to Jaeger and metrics to the exporter Prometheus scrapes', () => {
    const collector = readYaml<CollectorConfig>(join(OBSERVABILITY_DIR, 'otel-collector.yaml'));
    for (const [name, pipeline] of Object.entries(collector.service.pipelines)) {
      const undefinedParts = [
        ...pipeline.receivers.filter((part) => !(part in collector.receivers)),
        ...(pipeline.processors ?? []).filter((part) => !(part in (collector.processors ?? {}))),
        ...pipeline.exporters.filter((part) => !(part in collector.exporters)),
      ];
      expect({ name, undefinedParts }).toEqual({ name, undefinedParts: [] });
    }
    const http = collector.receivers['otlp']?.protocols?.['http']?.endpoint ?? '';
    expect(services['otel-collector']?.ports).toContain(`127.0.0.1:${portOf(http)}:${portOf(http)}`);

    const traces = collector.service.pipelines['traces']!.exporters.map((name) => collector.exporters[name]!.endpoint);
    expect(traces.map(hostOf)).toEqual(['jaeger']);
    expect(services['jaeger']?.environment?.['COLLECTOR_OTLP_ENABLED']).toBe('true');

    const [metricsExporter] = collector.service.pipelines['metrics']!.exporters;
    expect(metricsExporter).toBe('prometheus');
    const scrape = readYaml<{ scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> }>(
      join(OBSERVABILITY_DIR, 'prometheus.yml'),
    );
    const targets = scrape.scrape_configs.flatMap((config) => config.static_configs.flatMap((entry) => entry.targets));
    expect(targets).toEqual([`otel-collector:${portOf(collector.exporters['prometheus']!.endpoint)}`]);
  });

  it("gives Grafana data sources on the stack's services and a dashboard that uses them", () => {
    const provisioning = mounts('grafana').find(({ container }) => container === '/etc/grafana/provisioning')!.host;
    const dashboardsMount = mounts('grafana').find(({ container }) => container === '/var/lib/grafana/dashboards')!;
    const { datasources } = readYaml<{ datasources: Array<{ uid: string; url: string }> }>(
      join(provisioning, 'datasources', 'datasources.yaml'),
    );
    expect(datasources.map((source) => hostOf(source.url)).filter((host) => !(host in services))).toEqual([]);

    const { providers } = readYaml<{ providers: Array<{ options: { path: string } }> }>(
      join(provisioning, 'dashboards', 'dashboards.yaml'),
    );
    expect(providers.map((provider) => provider.options.path)).toEqual([dashboardsMount.container]);
    const home = services['grafana']?.environment?.['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'] ?? '';
    expect(home.startsWith(`${dashboardsMount.container}/`)).toBe(true);
    expect(existsSync(join(dashboardsMount.host, home.slice(dashboardsMount.container.length + 1)))).toBe(true);

    const uids = new Set(datasources.map((source) => source.uid));
    const unknown = dashboardPanels().flatMap((panel) =>
      [panel.datasource.uid, ...panel.targets.map((target) => target.datasource.uid)]
        .filter((uid) => !uids.has(uid))
        .map((uid) => `${panel.title}: ${uid}`),
    );
    expect(unknown).toEqual([]);
  });
});
