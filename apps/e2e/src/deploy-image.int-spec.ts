// The container image without a container engine (this machine has none): deploy/docker/Dockerfile's own steps —
// WORKDIR, ENV, COPY, RUN (the production `npm ci`), then CMD — carried out in a scratch folder, and every app started
// from there as the image starts it. A runtime dependency left in devDependencies, or a file the image does not copy,
// fails here. What the base image itself brings (Node 20 on Debian) is this machine's Node 20.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createTestSchema, dropTestSchema, expectEventually, freePort, testInfra, uniqueName, urlWithSearchPath } from '@baton/testing';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const DOCKERFILE = join(ROOT, 'deploy', 'docker', 'Dockerfile');

type Step = { op: 'COPY'; sources: string[]; dest: string } | { op: 'RUN'; command: string } | { op: 'ENV'; vars: Record<string, string> };

interface Image {
  workdir: string;
  steps: Step[];
  cmd: string[];
}

/** The instructions this emulation understands; any other fails the test, so a changed Dockerfile is not half-checked. */
function parseDockerfile(text: string): Image {
  const image: Image = { workdir: '/', steps: [], cmd: [] };
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = line.slice(op.length).trim();
    switch (op.toUpperCase()) {
      case 'FROM':
      case 'USER':
        break;
      case 'WORKDIR':
        image.workdir = args;
        break;
      case 'ENV':
        image.steps.push({ op: 'ENV', vars: Object.fromEntries(rest.map((pair) => pair.split('=') as [string, string])) });
        break;
      case 'COPY':
        image.steps.push({ op: 'COPY', sources: rest.slice(0, -1), dest: rest[rest.length - 1] ?? '' });
        break;
      case 'RUN':
        image.steps.push({ op: 'RUN', command: args });
        break;
      case 'CMD':
        image.cmd = JSON.parse(args) as string[];
        break;
      default:
        throw new Error(`deploy-image spec: Dockerfile instruction ${op} is not emulated; teach parseDockerfile what it means`);
    }
  }
  return image;
}

/** Carries out the steps in `root` (the image's filesystem root); returns the environment the image ends with. */
async function build(image: Image, root: string): Promise<Record<string, string>> {
  const workdir = join(root, image.workdir);
  mkdirSync(workdir, { recursive: true });
  const env: Record<string, string> = {};
  for (const step of image.steps) {
    if (step.op === 'ENV') Object.assign(env, step.vars);
    else if (step.op === 'COPY') {
      for (const source of step.sources) {
        const target = step.dest.endsWith('/') ? join(workdir, step.dest, source.split('/').pop() ?? source) : join(workdir, step.dest);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(join(ROOT, source), target, { recursive: true });
      }
    } else {
      // npm's cache in the scratch folder: the image's `npm cache clean --force` must not empty this machine's.
      await run('sh', ['-c', step.command], {
        cwd: workdir,
        env: { PATH: process.env['PATH'] ?? '', HOME: root, npm_config_cache: join(root, 'npm-cache'), ...env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 10 * 60_000,
      });
    }
  }
  return env;
}

async function ready(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

describe('container image (deploy/docker/Dockerfile, emulated)', () => {
  const infra = testInfra();

  it(
    'runs every app from the files and production dependencies the image holds',
    async () => {
      const image = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
      expect(image.steps.some((step) => step.op === 'RUN' && /npm ci/.test(step.command))).toBe(true);
      const root = mkdtempSync(join(tmpdir(), 'baton-image-'));
      const schema = await createTestSchema(infra.postgres.url);
      const children: ChildProcess[] = [];
      try {
        const imageEnv = await build(image, root);
        const workdir = join(root, image.workdir);
        const prefix = `${uniqueName('image')}.`;
        for (const app of ['router', 'context-graph', 'agent-runner']) {
          const port = await freePort();
          const [command = '', ...args] = image.cmd;
          const child = spawn(command, args, {
            cwd: workdir,
            env: {
              PATH: process.env['PATH'] ?? '',
              ...imageEnv,
              BATON_APP: app,
              PORT: String(port),
              KAFKA_BROKERS: infra.kafka.brokers.join(','),
              BATON_TOPIC_PREFIX: prefix,
              DATABASE_URL: urlWithSearchPath(infra.postgres.url, schema),
              ROUTER_DB_SCHEMA: schema,
              NEO4J_URI: infra.neo4j.uri,
              NEO4J_USER: infra.neo4j.user,
              NEO4J_PASSWORD: infra.neo4j.password,
              BATON_API_KEYS: 'image-test-key-0123456789',
              BATON_LOG_LEVEL: 'warn',
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          children.push(child);
          let output = '';
          child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
          child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
          await expectEventually(
            async () => {
              if (child.exitCode !== null) throw new Error(`${app} exited (${child.exitCode}) from the image:\n${output.slice(-3000)}`);
              expect(await ready(`http://127.0.0.1:${port}/health/ready`)).toBe(200);
            },
            { timeoutMs: 90_000 },
          );
        }
      } finally {
        for (const child of children) child.kill('SIGKILL');
        rmSync(root, { recursive: true, force: true });
        await dropTestSchema(infra.postgres.url, schema);
      }
    },
    15 * 60_000,
  );
});
