/**
 * README's first quick-start command, `npm start`, run as a user runs it (with
 * `--once`, so it exits after the demo): it takes the test run's
 * infrastructure from the environment, starts the router, the agent-runner and
 * the context graph as processes, and follows the example workflow to its end.
 * Its own topic prefix, router schema and ports keep it off every other spec's.
 * Bad arguments and variables stop it before anything starts, naming them.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { clearNeo4jPrefix, dropTestSchema, freePort, infraToEnv, testInfra, uniqueName } from '@baton/testing';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const infra = testInfra();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function npmStart(args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['tools/run-ts.cjs', 'tools/start/start.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`npm start ${args.join(' ')} still running after ${timeoutMs} ms; output so far:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

describe('npm start (README quick start)', () => {
  const topicPrefix = `${uniqueName('e2e-start')}.`;
  const routerSchema = uniqueName('router_start').replace(/[^a-z0-9_]/g, '_');

  afterAll(async () => {
    await dropTestSchema(infra.postgres.url, routerSchema);
    await clearNeo4jPrefix(topicPrefix, { property: 'uid', infra });
  });

  it('starts every app and runs the example workflow to completion, each step by an agent', async () => {
    const [router, runner, contextGraph] = [await freePort(), await freePort(), await freePort()];
    const run = await npmStart(
      ['--once'],
      {
        ...infraToEnv(infra),
        BATON_TOPIC_PREFIX: topicPrefix,
        ROUTER_DB_SCHEMA: routerSchema,
        ROUTER_PORT: String(router),
        RUNNER_PORT: String(runner),
        CONTEXT_GRAPH_PORT: String(contextGraph),
      },
      240_000,
    );

    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toContain('infrastructure ready (env)');
    expect(run.stdout).toContain(`router        http://127.0.0.1:${router}`);
    const workflow = /workflow ([0-9a-f-]{36}): (\w+)/.exec(run.stdout);
    expect(workflow?.[2]).toBe('completed');
    for (const step of ['extract', 'classify', 'compliance-check', 'sign-off']) {
      expect(run.stdout).toMatch(new RegExp(`^ {4}${step} +completed +by \\S+ \\(confidence [0-9.]+\\)$`, 'm'));
    }
  }, 300_000);

  it.each([
    [['--forever'], {}, 'unknown argument --forever; usage: npm start [-- --once]'],
    [['--once'], { ROUTER_PORT: 'abc' }, 'ROUTER_PORT=abc is not a TCP port (1-65535)'],
    [['--once'], { RUNNER_PORT: '70000' }, 'RUNNER_PORT=70000 is not a TCP port (1-65535)'],
    [
      ['--once'],
      { ROUTER_PORT: '4100', CONTEXT_GRAPH_PORT: '4100' },
      'ROUTER_PORT, RUNNER_PORT and CONTEXT_GRAPH_PORT must differ; 4100 is given twice',
    ],
    [['--once'], { BATON_API_KEYS: 'short' }, 'BATON_API_KEYS: the first key must be at least 16 characters'],
  ])('%j with %j stops before starting anything: %s', async (args, env, message) => {
    // No infrastructure variables: had it got as far as provisioning, it would have started or checked a stack.
    const run = await npmStart(args, { BATON_INFRA: 'env', KAFKA_BROKERS: '', DATABASE_URL: '', NEO4J_URI: '', ...env }, 60_000);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`Baton failed to start: ${message}\n`);
    expect(run.stdout).toBe('');
  });
});
