// Infrastructure in one command: `up`, `down`, `status` for Kafka, PostgreSQL and Neo4j.
// Progress goes to stderr so that stdout stays machine-readable (`up --json`, `status --env`).
import { writeFileSync } from 'node:fs';

import { endpointsFile, endpointsToEnv, loadEndpoints } from './endpoints';
import { COMPONENTS, type Component } from './health';
import { down, status, up } from './infra';

const USAGE = `usage: cli.ts <command> [options]
  up [--json] [--no-fsync] [--started-file <path>] [--lease <pid>]
        start (or reuse) Kafka, PostgreSQL and Neo4j; --json prints the endpoints JSON as the
        last stdout line; --started-file writes the components this call started (JSON array);
        --lease registers a test run that shares the stack (released by down --release)
  down [--only kafka,postgres,neo4j] [--release <pid>]
        stop the native servers (or the compose stack) and remove endpoints.json; with
        --release, only drop that test run's lease and stop what test runs started once
        no other run holds one
  status [--json | --env]
        each component with pid, port and health; --env prints export lines
environment: KAFKA_BROKERS, DATABASE_URL, NEO4J_URI (+ NEO4J_USER, NEO4J_PASSWORD) use existing servers;
  BATON_INFRA=native|docker|env, BATON_STATE_DIR, BATON_KAFKA_PORT, BATON_POSTGRES_PORT, BATON_NEO4J_PORT,
  BATON_KAFKA_CONTROLLER_PORT, BATON_NEO4J_PASSWORD, BATON_POSTGRES_FSYNC=off`;

const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

function optionValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

function parseComponents(raw: string): Component[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !(COMPONENTS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown component(s): ${unknown.join(', ')} (expected ${COMPONENTS.join(', ')})`);
  return names as Component[];
}

function parsePid(raw: string): number {
  const pid = Number(raw);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a process id: ${raw}`);
  return pid;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      const fsync = !(args.includes('--no-fsync') || process.env['BATON_POSTGRES_FSYNC'] === 'off');
      const lease = optionValue(args, '--lease');
      const result = await up(log, { fsync, lease: lease === undefined ? undefined : parsePid(lease) });
      const startedFile = optionValue(args, '--started-file');
      if (startedFile !== undefined) writeFileSync(startedFile, JSON.stringify(result.started));
      const e = result.endpoints;
      log(`infra (${e.mode}) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; endpoints in ${endpointsFile()}`);
      if (args.includes('--json')) {
        process.stdout.write(`${JSON.stringify(e)}\n`);
      } else {
        process.stdout.write(
          [
            `kafka     ${e.kafka.brokers.join(',')}`,
            `postgres  ${e.postgres.url}`,
            `neo4j     ${e.neo4j.uri} (user ${e.neo4j.user})`,
            '',
          ].join('\n'),
        );
      }
      return 0;
    }
    case 'down': {
      const only = optionValue(args, '--only');
      const releasePid = optionValue(args, '--release');
      await down(log, {
        only: only === undefined ? undefined : parseComponents(only),
        release: releasePid === undefined ? undefined : parsePid(releasePid),
      });
      return 0;
    }
    case 'status': {
      if (args.includes('--env')) {
        const env = endpointsToEnv(loadEndpoints());
        for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}='${v.replace(/'/g, `'\\''`)}'\n`);
        return 0;
      }
      const report = await status();
      if (args.includes('--json')) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        process.stdout.write(`mode: ${report.mode}\n`);
        for (const c of report.components) {
          const line = [
            c.component.padEnd(9),
            `pid ${c.pid ?? '-'}`.padEnd(12),
            `port ${c.port ?? '-'}`.padEnd(11),
            c.healthy ? 'healthy' : c.pid === undefined && report.mode !== 'env' && report.mode !== 'docker' ? 'stopped' : 'UNHEALTHY',
            c.log !== undefined && !c.healthy ? `  (log: ${c.log})` : '',
          ];
          process.stdout.write(`${line.join(' ')}\n`);
        }
      }
      return report.components.every((c) => c.healthy) ? 0 : 1;
    }
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`infra: ${(err as Error).message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
