// `node tools/run-ts.cjs tools/helm/cli.ts`: prints the path of the helm binary (building it when missing) as the
// last stdout line; progress goes to stderr.
import { ensureHelm } from './helm';

try {
  process.stdout.write(`${ensureHelm((line) => process.stderr.write(`${line}\n`))}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
