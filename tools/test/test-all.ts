/**
 * `npm test`: the whole suite, in the order that fails fastest — lint and
 * formatting (prettier --check; `npm run format` fixes it), type
 * check, unit tests, then integration and end-to-end tests on real Kafka,
 * Postgres and Neo4j (provisioned by the integration run's globalSetup), after
 * building helm for the chart's spec and installing schemathesis for the HTTP
 * fuzz spec when this machine has none.
 * Ends with one line `tests: N passed, N failed` summed over both jest runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const resultsDir = join(root, '.baton', 'test-results');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTotalTestSuites: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
}

function run(title: string, command: string, args: string[]): number {
  const started = Date.now();
  process.stdout.write(`\n=== ${title} ===\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const status = result.status ?? 1;
  process.stdout.write(`=== ${title}: ${status === 0 ? 'ok' : `FAILED (exit ${status})`} in ${seconds}s ===\n`);
  return status;
}

function readSummary(file: string): JestSummary | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as JestSummary;
}

function main(): void {
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  const only = process.argv.slice(2);
  const wants = (phase: string): boolean => only.length === 0 || only.includes(phase);
  const failures: string[] = [];

  if (wants('lint')) {
    // The module-boundary rule reads Nx's cached project graph and silently skips itself without one.
    const graph = spawnSync(bin('nx'), ['show', 'projects'], { cwd: root, env: { ...process.env, NX_DAEMON: 'false' } });
    if (graph.status !== 0) failures.push('project graph');
    if (run('lint', bin('eslint'), ['apps', 'libs', 'tools', '--max-warnings=0']) !== 0) failures.push('lint');
    if (run('format', bin('prettier'), ['--check', '.']) !== 0) failures.push('format');
  }
  if (wants('typecheck') && run('typecheck', bin('tsc'), ['-p', 'tools/tsconfig.json']) !== 0) failures.push('typecheck');

  const jestRuns: Array<[string, string]> = [
    ['unit', 'tools/jest/jest.unit.config.ts'],
    ['integration', 'tools/jest/jest.integration.config.ts'],
  ];
  for (const [phase, config] of jestRuns) {
    if (!wants(phase)) continue;
    // The chart's spec needs helm, built from source once per machine, and the HTTP fuzz spec schemathesis, installed
    // from PyPI once per machine: done here so neither shares the two cores with integration tests that start and kill
    // processes.
    if (phase === 'integration') {
      const tools = [
        ['helm (build once per machine)', 'tools/helm/cli.ts'],
        ['schemathesis (install once per machine)', 'tools/schemathesis/cli.ts'],
      ] as const;
      const failed = tools.filter(([name, cli]) => run(name, process.execPath, [join(root, 'tools', 'run-ts.cjs'), cli]) !== 0);
      if (failed.length > 0) {
        failures.push(...failed.map(([name]) => name));
        continue;
      }
    }
    const output = join(resultsDir, `${phase}.json`);
    const args = ['-c', config, '--ci', '--json', `--outputFile=${output}`];
    if (run(`${phase} tests`, bin('jest'), args) !== 0) failures.push(phase);
  }

  let passed = 0;
  let failed = 0;
  for (const [phase] of jestRuns) {
    const summary = readSummary(join(resultsDir, `${phase}.json`));
    if (!summary) continue;
    passed += summary.numPassedTests;
    failed += summary.numFailedTests + summary.numRuntimeErrorTestSuites;
  }
  if (failures.length > 0) process.stdout.write(`\nfailed phases: ${failures.join(', ')}\n`);
  process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
  process.exit(failures.length > 0 ? 1 : 0);
}

main();
