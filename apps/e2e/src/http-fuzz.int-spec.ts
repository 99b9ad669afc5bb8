// Every documented HTTP route of the router and the context graph, fuzzed by schemathesis (installed once per machine
// by tools/schemathesis; `npm test` does that before the integration phase) against the app's checked-in OpenAPI
// document, with the apps running as processes on real Kafka, Postgres and Neo4j: generated valid and invalid bodies,
// path and query parameters, and stateful sequences that follow the documented links. A 5xx, or a status code,
// content type or body the document does not declare, fails the spec; schemathesis' report names the request.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { clearNeo4jPrefix, dropTestSchema, spawnApp, testInfra, uniqueName, type SpawnedApp } from '@baton/testing';
import { projectTool } from './project-tool';
import { spawnContextGraph } from './runner-fixture';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const API_KEY = 'e2e-fuzz-key-0123456789abcdef';
/** Fixed, so a failure found in CI replays the same way on a developer's machine. */
const SEED = '20261206';
const EXAMPLES_PER_OPERATION = '25';
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance'];

/** How many operations (method + path) the document declares: schemathesis must test every one. */
function operationsIn(openapiFile: string): number {
  const document = parse(readFileSync(openapiFile, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
  return Object.values(document.paths).reduce((sum, item) => sum + Object.keys(item).filter((key) => methods.has(key)).length, 0);
}

interface FuzzRun {
  exitCode: number;
  output: string;
}

async function fuzz(st: string, openapiFile: string, app: SpawnedApp): Promise<FuzzRun> {
  const args = [
    'run',
    openapiFile,
    '--url',
    app.baseUrl,
    '--header',
    `authorization: Bearer ${API_KEY}`,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    EXAMPLES_PER_OPERATION,
    '--seed',
    SEED,
    // Nothing remembered between runs (and nothing written into the work tree): each run is the seed's alone.
    '--generation-database',
    'none',
    // One worker: on two cores more only queue, and hypothesis' lambda descriptions are not thread-safe on CPython 3.11.
    '--workers',
    '1',
    '--request-timeout',
    '30',
    '--no-color',
  ];
  try {
    // In .baton (ignored): schemathesis keeps a folder of its own in its working directory.
    const { stdout, stderr } = await run(st, args, { cwd: join(ROOT, '.baton'), maxBuffer: 64 * 1024 * 1024, timeout: 8 * 60_000 });
    return { exitCode: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { exitCode: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

function expectClean(result: FuzzRun, openapiFile: string): void {
  // On failure the report itself is the message: the failing request as a curl line and what came back.
  if (result.exitCode !== 0) throw new Error(`schemathesis found problems (exit ${result.exitCode}):\n${result.output.slice(-12_000)}`);
  const tested = /Tested:\s+(\d+)/.exec(result.output);
  const generated = /(\d+) generated, (\d+) passed/.exec(result.output);
  expect({ tested: Number(tested?.[1]), generatedAllPassed: generated?.[1] === generated?.[2] }).toEqual({
    tested: operationsIn(openapiFile),
    generatedAllPassed: true,
  });
  expect(Number(generated?.[1])).toBeGreaterThan(100);
}

describe('HTTP APIs under schemathesis', () => {
  const infra = testInfra();
  const routerSchema = uniqueName('router').replace(/[^a-z0-9_]/g, '_');
  let st: string;

  beforeAll(async () => {
    st = await projectTool('tools/schemathesis/cli.ts', 10 * 60_000);
  }, 10 * 60_000);

  describe('router', () => {
    const openapiFile = join(ROOT, 'apps', 'router', 'openapi.yaml');
    let router: SpawnedApp;

    beforeAll(async () => {
      router = await spawnApp({
        name: 'router',
        entry: 'apps/router/src/main.ts',
        env: {
          KAFKA_BROKERS: infra.kafka.brokers.join(','),
          BATON_TOPIC_PREFIX: `${uniqueName('e2e-fuzz')}.`,
          DATABASE_URL: infra.postgres.url,
          ROUTER_DB_SCHEMA: routerSchema,
          BATON_API_KEYS: API_KEY,
        },
      });
    }, 120_000);

    afterAll(async () => {
      await router?.stop();
      await dropTestSchema(infra.postgres.url, routerSchema);
    });

    it(
      'answers every generated request with a documented status, content type and body, and never a 5xx',
      async () => {
        expectClean(await fuzz(st, openapiFile, router), openapiFile);
      },
      9 * 60_000,
    );
  });

  describe('context-graph', () => {
    const openapiFile = join(ROOT, 'apps', 'context-graph', 'openapi.yaml');
    const topicPrefix = `${uniqueName('e2e-fuzzcg')}.`;
    let graph: SpawnedApp;

    beforeAll(async () => {
      graph = await spawnContextGraph(infra, topicPrefix, API_KEY);
    }, 120_000);

    afterAll(async () => {
      await graph?.stop();
      await clearNeo4jPrefix(topicPrefix, { property: 'uid', infra });
    });

    it(
      'answers every generated request with a documented status, content type and body, and never a 5xx',
      async () => {
        expectClean(await fuzz(st, openapiFile, graph), openapiFile);
      },
      9 * 60_000,
    );
  });
});
