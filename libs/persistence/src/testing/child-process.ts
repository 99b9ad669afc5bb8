import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

export interface Child {
  process: ChildProcess;
  /** Resolves with the first stdout line matching `pattern`; rejects if the child exits first or the deadline passes. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILL, then wait until the process is really gone (its sockets closed). */
  kill(): Promise<void>;
}

/** Runs a TypeScript script as its own node process, the way services run. */
export function spawnScript(script: string, args: readonly string[]): Child {
  const child = spawn(process.execPath, [resolve(REPO_ROOT, 'tools/run-ts.cjs'), script, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  let buffered = '';
  let exited = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exit = new Promise<void>((resolveExit) => {
    child.on('exit', () => {
      exited = true;
      for (const listener of listeners) listener();
      resolveExit();
    });
  });
  return {
    process: child,
    line(pattern, timeoutMs = 60_000) {
      return new Promise<string>((resolveLine, reject) => {
        const check = (): void => {
          const found = lines.find((candidate) => pattern.test(candidate));
          if (found !== undefined) {
            cleanup();
            resolveLine(found);
          } else if (exited) {
            cleanup();
            reject(new Error(`child exited before printing ${pattern}; stderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`child did not print ${pattern} within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}
