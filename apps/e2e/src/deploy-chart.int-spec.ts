// The Helm chart as a deployment would use it: `helm lint --strict`, then every app it renders started with exactly
// the environment of its Deployment (secrets filled with this run's infrastructure) and nothing inherited, until its
// readiness and liveness probes answer. A variable the chart forgets, or one an app starts requiring, fails here.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { projectTool } from './project-tool';
import {
  createTestSchema,
  dropTestSchema,
  freePort,
  spawnApp,
  testInfra,
  uniqueName,
  urlWithSearchPath,
  type SpawnedApp,
} from '@baton/testing';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const CHART = join(ROOT, 'deploy', 'helm', 'baton');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Container {
  name: string;
  env: EnvVar[];
  ports: Array<{ name: string; containerPort: number }>;
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
}

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: { template?: { spec: { containers: Container[] } }; ports?: Array<{ port: number }> };
}

/** `strings` are set as strings (commas escaped: --set splits on them), `values` as YAML values (booleans). */
async function render(binary: string, strings: Record<string, string>, values: Record<string, string> = {}): Promise<Manifest[]> {
  const sets = [
    ...Object.entries(strings).flatMap(([key, value]) => ['--set-string', `${key}=${value.replace(/,/g, '\\,')}`]),
    ...Object.entries(values).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
  ];
  const { stdout } = await run(binary, ['template', 'baton', CHART, ...sets], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

function resolveEnv(container: Container, secrets: Record<string, Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    container.env.map((variable) => {
      if (variable.value !== undefined) return [variable.name, variable.value];
      const ref = variable.valueFrom?.secretKeyRef;
      const value = ref === undefined ? undefined : secrets[ref.name]?.[ref.key];
      if (value === undefined)
        throw new Error(
          `${container.name}: env ${variable.name} refers to ${JSON.stringify(variable.valueFrom)}, which no secret of the test holds`,
        );
      return [variable.name, value];
    }),
  );
}

async function status(url: string): Promise<number> {
  return (await fetch(url)).status;
}

describe('Helm chart (deploy/helm/baton)', () => {
  const infra = testInfra();
  let binary = '';

  beforeAll(async () => {
    binary = await projectTool('tools/helm/cli.ts', 20 * 60_000);
  }, 20 * 60_000);

  it('passes helm lint --strict', async () => {
    const { stdout } = await run(binary, ['lint', '--strict', CHART]);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('renders a Deployment and a Service per app, and each app starts on exactly its Deployment environment', async () => {
    const prefix = `${uniqueName('chart')}.`;
    const schema = await createTestSchema(infra.postgres.url);
    const ports = { router: await freePort(), 'context-graph': await freePort(), 'agent-runner': await freePort() };
    const apiKey = 'chart-test-key-0123456789';
    const manifests = await render(binary, {
      'kafka.brokers': infra.kafka.brokers.join(','),
      'kafka.topicPrefix': prefix,
      'neo4j.uri': infra.neo4j.uri,
      'neo4j.user': infra.neo4j.user,
      ...Object.fromEntries(Object.entries(ports).map(([app, port]) => [`apps.${app}.port`, String(port)])),
      // The router's tables in this test's schema, through the chart's per-app variables.
      'apps.router.env.ROUTER_DB_SCHEMA': schema,
    });
    const deployments = manifests.filter((m) => m.kind === 'Deployment');
    const services = manifests.filter((m) => m.kind === 'Service');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['baton-agent-runner', 'baton-context-graph', 'baton-router']);
    expect(services.map((s) => [s.metadata.name, s.spec.ports?.[0]?.port]).sort()).toEqual([
      ['baton-agent-runner', ports['agent-runner']],
      ['baton-context-graph', ports['context-graph']],
      ['baton-router', ports.router],
    ]);

    const secrets = {
      'baton-postgres': { url: urlWithSearchPath(infra.postgres.url, schema) },
      'baton-neo4j': { password: infra.neo4j.password },
      'baton-api-keys': { keys: apiKey },
    };
    const started: SpawnedApp[] = [];
    try {
      for (const deployment of deployments) {
        const container = deployment.spec.template?.spec.containers[0];
        if (container === undefined) throw new Error(`${deployment.metadata.name}: no container`);
        const env = resolveEnv(container, secrets);
        const app = env['BATON_APP'] ?? '';
        const port = container.ports.find((p) => p.name === 'http')?.containerPort;
        expect(port).toBe(ports[app as keyof typeof ports]);
        // As the image's CMD runs it; readiness as the Deployment's probe asks for it.
        const spawned = await spawnApp({
          name: `chart-${app}`,
          entry: `apps/${app}/src/main.ts`,
          env,
          inheritEnv: false,
          port,
          readyPath: container.readinessProbe.httpGet.path,
          readyTimeoutMs: 90_000,
        });
        started.push(spawned);
        expect(await status(`${spawned.baseUrl}${container.livenessProbe.httpGet.path}`)).toBe(200);
      }
      expect(started.map((app) => app.name).sort()).toEqual(['chart-agent-runner', 'chart-context-graph', 'chart-router']);
    } finally {
      await Promise.all(started.map((app) => app.stop()));
      await dropTestSchema(infra.postgres.url, schema);
    }
  }, 240_000);

  it('leaves out an app that is not enabled', async () => {
    const manifests = await render(binary, {}, { 'apps.context-graph.enabled': 'false' });
    expect(
      manifests
        .filter((m) => m.kind === 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['baton-agent-runner', 'baton-router']);
  });
});
