// Helm for linting and rendering deploy/helm/baton, built from the Go module proxy (this machine reaches it, and no
// release download site) into .baton/tools, once per machine. `go` is the only prerequisite.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const HELM_MODULE = 'helm.sh/helm/v4/cmd/helm';
export const HELM_VERSION = 'v4.3.2';

const ROOT = resolve(__dirname, '..', '..');

export function helmPath(root: string = ROOT): string {
  return join(root, '.baton', 'tools', `helm-${HELM_VERSION}`, 'helm');
}

/** The helm binary, built first when missing (a few minutes on two cores; later calls return at once). */
export function ensureHelm(log: (line: string) => void, root: string = ROOT): string {
  const binary = helmPath(root);
  if (existsSync(binary)) return binary;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) {
    throw new Error(
      `helm ${HELM_VERSION} is built from source with Go, and \`go version\` failed: ${go.error?.message ?? go.stderr.trim()}`,
    );
  }
  const bin = join(binary, '..');
  const gopath = join(root, '.baton', 'tools', 'go');
  mkdirSync(bin, { recursive: true });
  log(`building helm ${HELM_VERSION} with ${go.stdout.trim()} (once per machine) ...`);
  const started = Date.now();
  const built = spawnSync('go', ['install', `${HELM_MODULE}@${HELM_VERSION}`], {
    cwd: root,
    env: {
      ...process.env,
      GOBIN: bin,
      GOPATH: gopath,
      GOCACHE: join(gopath, 'build-cache'),
      // Module files writable, so `rm -rf .baton` works; the machine's own Go, whatever a go.mod would ask for.
      GOFLAGS: '-modcacherw',
      GOTOOLCHAIN: 'local',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (built.status !== 0 || !existsSync(binary)) {
    throw new Error(
      `go install ${HELM_MODULE}@${HELM_VERSION} failed (exit ${built.status ?? built.signal}):\n${built.stderr.slice(-4000)}`,
    );
  }
  log(`helm ${HELM_VERSION} built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${binary}`);
  return binary;
}
