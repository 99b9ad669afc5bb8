import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

import { findProcesses, type NativeLayout } from './native-context';
import { cmdlineOf, isAlive, run, runOrThrow, stopProcess, which } from './processes';

export const POSTGRES_DB = 'baton';
export const POSTGRES_ROLE = 'baton';
export const POSTGRES_PASSWORD = 'baton';

export interface PostgresPaths {
  home: string;
  data: string;
  superuserPasswordFile: string;
  log: string;
}

export function postgresPaths(layout: NativeLayout): PostgresPaths {
  const home = join(layout.root, 'postgres');
  return {
    home,
    data: join(home, 'data'),
    superuserPasswordFile: join(home, 'superuser-password'),
    log: join(layout.logs, 'postgres.log'),
  };
}

export function postgresUrl(port: number): string {
  return `postgres://${POSTGRES_ROLE}:${POSTGRES_PASSWORD}@127.0.0.1:${port}/${POSTGRES_DB}`;
}

/** Newest /usr/lib/postgresql/<ver>/bin that has a server, or BATON_POSTGRES_BIN. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env['BATON_POSTGRES_BIN'];
  if (configured) return existsSync(join(configured, 'pg_ctl')) ? configured : undefined;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(base, versions[0] as string, 'bin');
  }
  const initdb = which('initdb');
  return initdb === undefined ? undefined : initdb.slice(0, -'/initdb'.length);
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Installs the Debian server package when absent and we may; otherwise says what to install. */
export function ensurePostgresBin(log: (msg: string) => void): string {
  const found = findPostgresBin();
  if (found !== undefined) return found;
  if (!isRoot() || which('apt-get') === undefined) {
    throw new Error(
      'postgres: server binaries (initdb, pg_ctl) not found; install PostgreSQL (Debian: apt-get install postgresql) or set BATON_POSTGRES_BIN',
    );
  }
  log('postgres: installing the Debian postgresql package (apt-get)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  runOrThrow('postgres: apt-get update', 'apt-get', ['update'], { env });
  runOrThrow('postgres: apt-get install postgresql', 'apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env });
  const installed = findPostgresBin();
  if (installed === undefined) throw new Error('postgres: apt-get installed postgresql but no initdb was found under /usr/lib/postgresql');
  return installed;
}

interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

function lookupUser(name: string): OsUser | undefined {
  const result = run('id', ['-u', name]);
  if (result.status !== 0) return undefined;
  const gid = run('id', ['-g', name]);
  return { name, uid: Number(result.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * initdb refuses to run as root, so as root the cluster belongs to `postgres` (Debian's
 * package user) or a `baton` system user created here; otherwise to the caller.
 */
export function postgresOsUser(): OsUser | undefined {
  if (!isRoot()) return undefined;
  const existing = lookupUser('postgres') ?? lookupUser('baton');
  if (existing !== undefined) return existing;
  runOrThrow('postgres: creating system user baton', 'useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'baton']);
  const created = lookupUser('baton');
  if (created === undefined) throw new Error('postgres: could not create system user baton');
  return created;
}

function asUser(user: OsUser | undefined, command: string, args: string[]): [string, string[]] {
  return user === undefined ? [command, args] : ['runuser', ['-u', user.name, '--', command, ...args]];
}

export function postgresMarker(layout: NativeLayout): string {
  return `-D ${postgresPaths(layout).data}`;
}

/** The postmaster pid: from postmaster.pid when that process is alive, else by scanning. */
export function findPostgresPid(layout: NativeLayout): number | undefined {
  const pidFile = join(postgresPaths(layout).data, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && findProcesses(postgresMarker(layout)).includes(pid)) return pid;
  }
  // The postmaster is the process whose executable is `postgres`; pg_ctl/runuser may carry the marker too.
  return findProcesses(postgresMarker(layout)).find((pid) => cmdlineOf(pid)?.split(' ')[0]?.endsWith('/postgres') ?? false);
}

export interface PostgresRuntime {
  bin: string;
  user: OsUser | undefined;
}

/** Creates the cluster once (initdb as the unprivileged owner). */
export function preparePostgres(layout: NativeLayout, log: (msg: string) => void): PostgresRuntime {
  const bin = ensurePostgresBin(log);
  const user = postgresOsUser();
  const p = postgresPaths(layout);
  mkdirSync(p.home, { recursive: true });
  mkdirSync(layout.logs, { recursive: true });
  if (!existsSync(p.log)) writeFileSync(p.log, '');
  if (user !== undefined) {
    // The server user must reach its data dir through folders root created.
    for (const dir of [layout.root, layout.logs]) chmodSync(dir, 0o755);
    chownSync(p.home, user.uid, user.gid);
    chownSync(p.log, user.uid, user.gid);
    const reach = run('runuser', ['-u', user.name, '--', 'test', '-w', p.home]);
    if (reach.status !== 0) {
      throw new Error(
        `postgres: user ${user.name} cannot write ${p.home}; a parent folder is not traversable (chmod o+x), or set BATON_STATE_DIR elsewhere`,
      );
    }
  }
  if (!existsSync(join(p.data, 'PG_VERSION'))) {
    if (!existsSync(p.superuserPasswordFile)) {
      writeFileSync(p.superuserPasswordFile, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
    }
    if (user !== undefined) chownSync(p.superuserPasswordFile, user.uid, user.gid);
    log(`postgres: initdb ${p.data}`);
    const [cmd, args] = asUser(user, join(bin, 'initdb'), [
      '-D',
      p.data,
      '-U',
      'postgres',
      '--auth-local=peer',
      '--auth-host=scram-sha-256',
      `--pwfile=${p.superuserPasswordFile}`,
      '-E',
      'UTF8',
      '--no-locale',
    ]);
    runOrThrow('postgres: initdb', cmd, args);
    const conf = join(p.data, 'postgresql.conf');
    writeFileSync(conf, `${readFileSync(conf, 'utf8')}\n# Baton settings, rewritten on every start\ninclude_if_exists = 'baton.conf'\n`);
  }
  return { bin, user };
}

export function renderPostgresConf(port: number, fsync: boolean): string {
  return [
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    // Tests and seven services each hold pools; the default 100 runs out.
    'max_connections = 300',
    // TCP only: no socket in a system folder the server user may not write.
    "unix_socket_directories = ''",
    'shared_buffers = 128MB',
    `fsync = ${fsync ? 'on' : 'off'}`,
    `synchronous_commit = ${fsync ? 'on' : 'off'}`,
    `full_page_writes = ${fsync ? 'on' : 'off'}`,
    "log_destination = 'stderr'",
    'log_min_messages = warning',
    '',
  ].join('\n');
}

export function startPostgres(layout: NativeLayout, rt: PostgresRuntime, port: number, fsync: boolean): number {
  const p = postgresPaths(layout);
  const conf = join(p.data, 'baton.conf');
  writeFileSync(conf, renderPostgresConf(port, fsync));
  if (rt.user !== undefined) chownSync(conf, rt.user.uid, rt.user.gid);
  const [cmd, args] = asUser(rt.user, join(rt.bin, 'pg_ctl'), ['-D', p.data, '-l', p.log, '-w', '-t', '60', 'start']);
  runOrThrow('postgres: pg_ctl start', cmd, args);
  const pid = findPostgresPid(layout);
  if (pid === undefined) throw new Error('postgres: pg_ctl reported a start but no postmaster is running');
  return pid;
}

/** Role and database for the services; idempotent, run on every start. */
export async function ensureBatonDatabase(layout: NativeLayout, port: number): Promise<void> {
  const password = readFileSync(postgresPaths(layout).superuserPasswordFile, 'utf8').trim();
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await client.connect();
  try {
    const role = await client.query('select 1 from pg_roles where rolname = $1', [POSTGRES_ROLE]);
    if (role.rowCount === 0) {
      await client.query(`create role ${POSTGRES_ROLE} login createdb password '${POSTGRES_PASSWORD}'`);
    }
    const db = await client.query('select 1 from pg_database where datname = $1', [POSTGRES_DB]);
    if (db.rowCount === 0) {
      await client.query(`create database ${POSTGRES_DB} owner ${POSTGRES_ROLE}`);
    }
  } finally {
    await client.end();
  }
}

export async function stopPostgres(layout: NativeLayout, pid: number): Promise<string> {
  const bin = findPostgresBin();
  const user = isRoot() ? postgresOsUser() : undefined;
  if (bin !== undefined) {
    // Fast shutdown: rolls back open transactions and checkpoints, no client waiting.
    const [cmd, args] = asUser(user, join(bin, 'pg_ctl'), ['-D', postgresPaths(layout).data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    run(cmd, args);
  }
  const how = await stopProcess(pid, 10_000);
  return how === 'not-running' ? 'stopped (pg_ctl)' : how;
}
