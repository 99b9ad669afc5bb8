import { readFileSync } from 'node:fs';

import { expectEventually } from '../wait/expect-eventually';
import { spawnApp } from './spawn-app';

const ENTRY = 'libs/testing/src/process/testing/fixture-app.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('spawnApp', () => {
  it('waits for readiness, then stop() ends the app and its children', async () => {
    const app = await spawnApp({ name: 'fixture', entry: ENTRY, env: { FIXTURE_CHILD: '1' } });
    const res = await fetch(`${app.baseUrl}/health/ready`);
    expect(res.status).toBe(200);
    const grandchild = Number(/grandchild (\d+)/.exec(readFileSync(app.logFile, 'utf8'))?.[1]);
    expect(alive(grandchild)).toBe(true);
    await app.stop();
    expect(alive(app.pid)).toBe(false);
    await expectEventually(() => expect(alive(grandchild)).toBe(false), { timeoutMs: 5_000 });
    expect(readFileSync(app.logFile, 'utf8')).toContain('fixture: SIGTERM, closing');
  });

  it('kill() crashes the app with SIGKILL', async () => {
    const app = await spawnApp({ name: 'fixture-kill', entry: ENTRY });
    await app.kill();
    expect(alive(app.pid)).toBe(false);
    expect(app.logTail()).not.toContain('SIGTERM');
  });

  it('reports an app that exits before it is ready, with its log', async () => {
    await expect(spawnApp({ name: 'fixture-fail', entry: ENTRY, env: { FIXTURE_FAIL: '1' } })).rejects.toThrow(
      /exited \(code 3\) before ready[\s\S]*failing on purpose/,
    );
  });
});
