/**
 * `infra:up` refuses to start on a bad machine state, at once and naming what
 * is wrong. Each case uses its own state folder and forces the native path, so
 * it never touches the stack the test run itself uses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

function infraUp(env: Record<string, string>): { status: number | null; output: string } {
  const stateDir = mkdtempSync(join(tmpdir(), 'baton-preflight-'));
  try {
    const base: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      // Without the infra URLs the CLI would just health-check the test run's stack.
      if (value !== undefined && !['KAFKA_BROKERS', 'DATABASE_URL', 'NEO4J_URI'].includes(key)) base[key] = value;
    }
    const result = spawnSync(process.execPath, ['tools/run-ts.cjs', 'tools/infra/cli.ts', 'up'], {
      cwd: REPO_ROOT,
      env: { ...base, BATON_STATE_DIR: stateDir, BATON_INFRA: 'native', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

describe('infra:up preflight', () => {
  let held: Server;
  let heldPort: number;

  beforeAll(async () => {
    held = createServer();
    await new Promise<void>((done) => held.listen(0, '127.0.0.1', done));
    heldPort = (held.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((done) => held.close(() => done()));
  });

  it('fails fast naming Kafka and the port when the configured port is taken', () => {
    const { status, output } = infraUp({ BATON_KAFKA_PORT: String(heldPort) });
    expect(status).toBe(1);
    expect(output).toContain(`kafka: port ${heldPort} (BATON_KAFKA_PORT) is already in use`);
  });

  it('fails fast naming the variable when the Neo4j page cache size is not a size', () => {
    const { status, output } = infraUp({ BATON_NEO4J_PAGECACHE_MB: '2G' });
    expect(status).toBe(1);
    expect(output).toContain('BATON_NEO4J_PAGECACHE_MB must be a whole number of MB, at least 32; got 2G');
  });

  it('fails fast naming the JDK when there is none', () => {
    const { status, output } = infraUp({ JAVA_HOME: '/nonexistent-jdk' });
    expect(status).toBe(1);
    expect(output).toContain('JDK not found: JAVA_HOME=/nonexistent-jdk');
  });
});
