import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Alive and not a zombie: a zombie still answers kill(0) but will never serve anything. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return existsSync(`/proc/${pid}`);
  }
}

export function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/**
 * A pid file can outlive its process and the pid can be reused by something else;
 * only a live process whose command line carries our marker counts as ours.
 */
export function isOurProcess(pid: number | undefined, marker: string): pid is number {
  if (pid === undefined || !isAlive(pid)) return false;
  const cmd = cmdlineOf(pid);
  return cmd !== undefined && cmd.includes(marker);
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/** SIGTERM, wait, then SIGKILL; resolves to how it ended so callers can report it. */
export async function stopProcess(pid: number, timeoutMs: number): Promise<'not-running' | 'terminated' | 'killed'> {
  if (!isAlive(pid)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  if (await waitForExit(pid, timeoutMs)) return 'terminated';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Exited between the check and the kill.
  }
  if (!(await waitForExit(pid, 5_000))) throw new Error(`process ${pid} survived SIGKILL`);
  return 'killed';
}

export interface DetachedSpawn {
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Starts a long-lived server in its own session with output appended to a log file,
 * so it survives the CLI exiting and never blocks on a closed pipe.
 */
export function spawnDetached(opts: DetachedSpawn): number {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  try {
    writeSync(fd, `\n==== ${new Date().toISOString()} ${opts.command} ${opts.args.join(' ')}\n`);
    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${opts.command}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function tailFile(file: string, lines = 20): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines)
      .join('\n');
  } finally {
    closeSync(fd);
  }
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], opts: SpawnSyncOptions = {}): CommandResult {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (result.error) {
    return { status: null, stdout: '', stderr: result.error.message };
  }
  return { status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** Runs a command and throws with its output when it fails. */
export function runOrThrow(what: string, command: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const result = run(command, args, opts);
  if (result.status !== 0) {
    throw new Error(`${what} failed (${command} ${args.join(' ')}): ${(result.stderr || result.stdout).trim().slice(-2000)}`);
  }
  return result.stdout;
}

export function which(binary: string, pathValue = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of pathValue.split(':')) {
    if (dir === '') continue;
    const candidate = `${dir}/${binary}`;
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not in this PATH entry.
    }
  }
  return undefined;
}

/**
 * A cross-process lock (O_EXCL file holding our pid) so that `npm start` and `npm test`
 * starting at once do not both provision; a lock left by a dead process is taken over.
 */
export async function withLock<T>(lockFile: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lockFile, 'utf8').trim());
      if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`another infra command (pid ${holder}) holds ${lockFile}`);
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
