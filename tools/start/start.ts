/**
 * `npm start`: infrastructure up (native, Docker or from the environment), every
 * app started as its own process, an example workflow submitted and followed to
 * its end, then where to look. Runs until Ctrl-C; `--once` exits after the demo.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnApp, type SpawnedApp } from '@baton/testing';
import { up } from '../infra/infra';
import { parseStartOptions } from './start-options';

const ROOT = join(__dirname, '..', '..');
const LOG_DIR = join(ROOT, '.baton', 'logs');

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

interface WorkflowView {
  id: string;
  status: string;
  output: unknown;
  steps: Array<{ id: string; status: string; agentId: string | null; confidence: number | null }>;
}

async function main(): Promise<void> {
  const { once, apiKey, apiKeys, ports } = parseStartOptions(process.argv.slice(2), process.env);
  say('Baton: bringing up infrastructure (the first run downloads Kafka and Neo4j from Maven Central) ...');
  const { endpoints } = await up((message) => say(`  ${message}`));
  say(`  infrastructure ready (${endpoints.mode}): kafka ${endpoints.kafka.brokers.join(',')}, postgres, neo4j ${endpoints.neo4j.uri}`);

  mkdirSync(LOG_DIR, { recursive: true });
  const common = {
    KAFKA_BROKERS: endpoints.kafka.brokers.join(','),
    DATABASE_URL: endpoints.postgres.url,
    NEO4J_URI: endpoints.neo4j.uri,
    NEO4J_USER: endpoints.neo4j.user,
    NEO4J_PASSWORD: endpoints.neo4j.password,
    BATON_API_KEYS: apiKeys,
  };
  say('Baton: starting apps ...');
  const apps: SpawnedApp[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(apps.map((app) => app.stop()));
  };
  try {
    apps.push(
      await spawnApp({
        name: 'router',
        entry: 'apps/router/src/main.ts',
        port: ports.router,
        logDir: LOG_DIR,
        env: { ...common, ROUTER_PORT: String(ports.router) },
      }),
    );
    apps.push(
      await spawnApp({
        name: 'agent-runner',
        entry: 'apps/agent-runner/src/main.ts',
        port: ports.runner,
        logDir: LOG_DIR,
        env: { ...common, RUNNER_PORT: String(ports.runner) },
      }),
    );
    apps.push(
      await spawnApp({
        name: 'context-graph',
        entry: 'apps/context-graph/src/main.ts',
        port: ports.contextGraph,
        logDir: LOG_DIR,
        env: { ...common, CONTEXT_GRAPH_PORT: String(ports.contextGraph) },
      }),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  for (const app of apps) say(`  ${app.name.padEnd(13)} ${app.baseUrl}  (log ${app.logFile})`);

  const [routerApp, runnerApp] = apps as [SpawnedApp, SpawnedApp];
  const router = routerApp.baseUrl;
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const example = readFileSync(join(__dirname, 'example-workflow.json'), 'utf8');
  // The router refuses capabilities no agent announced yet: wait for the runner's first heartbeat to reach it.
  await agentsListed(`${router}/agents`, headers, capabilitiesIn(example));
  say('\nBaton: submitting the example workflow (tools/start/example-workflow.json) ...');
  const accepted = await fetch(`${router}/workflows`, { method: 'POST', headers, body: example });
  if (accepted.status !== 202) throw new Error(`POST /workflows answered ${accepted.status}: ${await accepted.text()}`);
  const { id } = (await accepted.json()) as WorkflowView;
  const view = await follow(`${router}/workflows/${id}`, headers);
  say(`  workflow ${id}: ${view.status}`);
  for (const step of view.steps) {
    say(`    ${step.id.padEnd(18)} ${step.status.padEnd(10)} by ${step.agentId ?? '-'} (confidence ${step.confidence ?? '-'})`);
  }

  say(`
Where to look:
  API docs        ${router}/docs   (API key: ${apiKey})
  a workflow      curl -H 'authorization: Bearer ${apiKey}' ${router}/workflows/${id}
  health          ${router}/health/ready   ${runnerApp.baseUrl}/health/ready
  context graph   curl -H 'authorization: Bearer ${apiKey}' 'http://127.0.0.1:${ports.contextGraph}/facts?q=pool'   (docs at /docs)
  app logs        ${LOG_DIR}/   (JSON lines, with correlationId and traceId)
  infra logs      .baton/infra/logs/
  the event log   kcat -b ${endpoints.kafka.brokers[0]} -C -t baton.workflow.events -e
  traces          set OTEL_EXPORTER_OTLP_ENDPOINT to your collector before npm start
  stop            Ctrl-C stops the apps; npm run infra:down stops Kafka, Postgres and Neo4j
`);

  if (once) {
    await stopAll();
    return;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (): void => {
      say('\nBaton: stopping apps (infrastructure keeps running; npm run infra:down stops it) ...');
      void stopAll().then(resolve);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
}

function capabilitiesIn(workflowJson: string): string[] {
  const found = new Set<string>();
  JSON.stringify(JSON.parse(workflowJson), (key, value: unknown) => {
    if (key === 'capability' && typeof value === 'string') found.add(value);
    return value;
  });
  return [...found];
}

async function agentsListed(url: string, headers: Record<string, string>, capabilities: readonly string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const agents = (await (await fetch(url, { headers })).json()) as Array<{ capabilities: string[] }>;
    const known = new Set(agents.flatMap((agent) => agent.capabilities));
    if (capabilities.every((capability) => known.has(capability))) return;
    if (Date.now() > deadline) throw new Error(`no agent announced ${capabilities.filter((c) => !known.has(c)).join(', ')} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function follow(url: string, headers: Record<string, string>): Promise<WorkflowView> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const view = (await (await fetch(url, { headers })).json()) as WorkflowView;
    if (view.status !== 'running') return view;
    if (Date.now() > deadline) throw new Error(`workflow still running after 60 s: ${JSON.stringify(view)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Baton failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
