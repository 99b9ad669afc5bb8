import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * The path of a tool the suite installs into .baton/tools once per machine (`npm test` does it before the
 * integration phase): runs its cli, which installs it when missing and prints the path as its last line.
 */
export async function projectTool(cli: 'tools/helm/cli.ts' | 'tools/schemathesis/cli.ts', timeoutMs: number): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'tools', 'run-ts.cjs'), cli], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
    timeout: timeoutMs,
  });
  return stdout.trim().split('\n').pop() ?? '';
}
