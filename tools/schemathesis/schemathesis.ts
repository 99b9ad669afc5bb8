// Schemathesis (from PyPI) for fuzzing the apps' HTTP APIs against their checked-in OpenAPI documents, installed into
// a virtual environment under .baton/tools, once per machine. `python3` with its `venv` module is the only prerequisite.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SCHEMATHESIS_VERSION = '4.32.5';

const ROOT = resolve(__dirname, '..', '..');

export function schemathesisPath(root: string = ROOT): string {
  return join(root, '.baton', 'tools', `schemathesis-${SCHEMATHESIS_VERSION}`, 'bin', 'st');
}

/** The `st` command, installed first when missing (tens of seconds; later calls return at once). */
export function ensureSchemathesis(log: (line: string) => void, root: string = ROOT): string {
  const command = schemathesisPath(root);
  if (existsSync(command)) return command;
  const venv = resolve(command, '..', '..');
  log(`installing schemathesis ${SCHEMATHESIS_VERSION} into ${venv} (once per machine) ...`);
  const started = Date.now();
  const steps: Array<[string, string[]]> = [
    ['python3', ['-m', 'venv', venv]],
    [join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`]],
  ];
  for (const [program, args] of steps) {
    const result = spawnSync(program, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
    if (result.status !== 0) {
      // Half an environment would pass the existence check next time.
      rmSync(venv, { recursive: true, force: true });
      throw new Error(
        `${program} ${args.join(' ')} failed (exit ${result.status ?? result.signal}): ${result.error?.message ?? result.stderr.slice(-4000)}`,
      );
    }
  }
  if (!existsSync(command)) throw new Error(`schemathesis ${SCHEMATHESIS_VERSION} installed, but ${command} is missing`);
  log(`schemathesis ${SCHEMATHESIS_VERSION} installed in ${((Date.now() - started) / 1000).toFixed(0)} s: ${command}`);
  return command;
}
