import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { join, resolve } from 'node:path';

import { freePort } from '../net/free-port';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
export const TEST_LOG_DIR = join(REPO_ROOT, '.baton', 'test-logs');

export interface SpawnAppOptions {
  /** Used in the log file name and error messages. */
  name: string;
  /** TypeScript entry point, relative to the repository root (run with tools/run-ts.cjs). */
  entry: string;
  /** Extra environment; merged over the test process's environment (which carries the infra URLs). */
  env?: Record<string, string>;
  /**
   * False: the app gets `env` (and PATH, HOME) only, not the test process's environment — for proving that a
   * deployment's variables alone configure it. Default true.
   */
  inheritEnv?: boolean;
  /** Path that answers 200 once the app is ready. */
  readyPath?: string;
  /** HTTP port; a free one when omitted. Passed to the app as PORT. */
  port?: number;
  /** How long to wait for readiness; default 60 s. */
  readyTimeoutMs?: number;
  args?: string[];
  /** Where the log file goes; default `.baton/test-logs/`. */
  logDir?: string;
}

export interface SpawnedApp {
  name: string;
  port: number;
  baseUrl: string;
  pid: number;
  logFile: string;
  /** SIGTERM to the app's process group, then wait for it to exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** Signal the whole process group (default SIGKILL, a crash) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The last lines of the app's log. */
  logTail(lines?: number): string;
  /** How the process ended (`code 0`, `signal SIGKILL`), or undefined while it runs. */
  exitStatus(): string | undefined;
}

function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])));
}

function tail(file: string, lines: number): string {
  try {
    const size = statSync(file).size;
    const text = readFileSync(file, 'utf8');
    return text
      .slice(Math.max(0, size - 64 * 1024))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no output)';
  }
}

function httpStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveStatus(0));
  });
}

/**
 * Starts an app as a real child process (as in production: `node tools/run-ts.cjs
 * <entry>`) in its own process group, so stop/kill reach anything it spawns. Output goes to
 * `.baton/test-logs/<name>-<port>.log`; resolves once GET <readyPath> answers 200.
 */
export async function spawnApp(options: SpawnAppOptions): Promise<SpawnedApp> {
  const port = options.port ?? (await freePort());
  const readyPath = options.readyPath ?? '/health/ready';
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const baseUrl = `http://127.0.0.1:${port}`;
  const logDir = options.logDir ?? TEST_LOG_DIR;
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${options.name}-${port}.log`);
  const fd = openSync(logFile, 'a');
  let exited = false;
  let exitDescription = '';
  let resolveExit: () => void = () => undefined;
  const exitPromise = new Promise<void>((r) => {
    resolveExit = r;
  });
  const child = spawn(process.execPath, [join(REPO_ROOT, 'tools', 'run-ts.cjs'), options.entry, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: {
      ...(options.inheritEnv === false ? pick(process.env, ['PATH', 'HOME']) : process.env),
      PORT: String(port),
      ...options.env,
    },
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.on('exit', (code, signal) => {
    exited = true;
    exitDescription = signal !== null ? `signal ${signal}` : `code ${code}`;
    resolveExit();
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`spawnApp(${options.name}): could not start ${options.entry}`);

  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      // Negative pid: the whole group (run-ts, the app, anything it spawned).
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  const waitExit = async (ms: number): Promise<boolean> => {
    if (exited) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    });
    const done = await Promise.race([exitPromise.then(() => true), timedOut]);
    clearTimeout(timer);
    return done;
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    signalGroup(signal);
    if (!(await waitExit(15_000))) {
      signalGroup('SIGKILL');
      await waitExit(5_000);
    }
    // Children that ignored the leader's death still die with the group.
    signalGroup('SIGKILL');
  };
  const stop = async (): Promise<void> => {
    if (exited) {
      signalGroup('SIGKILL');
      return;
    }
    await kill('SIGTERM');
  };
  const app: SpawnedApp = {
    name: options.name,
    port,
    baseUrl,
    pid,
    logFile,
    stop,
    kill,
    logTail: (n = 30) => tail(logFile, n),
    exitStatus: () => (exited ? exitDescription : undefined),
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(`spawnApp(${options.name}): exited (${exitDescription}) before ready; log ${logFile}:\n${tail(logFile, 30)}`);
    }
    if ((await httpStatus(`${baseUrl}${readyPath}`, 2_000)) === 200) return app;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `spawnApp(${options.name}): GET ${readyPath} not 200 within ${readyTimeoutMs} ms; log ${logFile}:\n${tail(logFile, 30)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
