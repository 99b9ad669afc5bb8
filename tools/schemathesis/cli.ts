// `node tools/run-ts.cjs tools/schemathesis/cli.ts`: prints the path of schemathesis' `st` (installing it when
// missing) as the last stdout line; progress goes to stderr.
import { ensureSchemathesis } from './schemathesis';

try {
  process.stdout.write(`${ensureSchemathesis((line) => process.stderr.write(`${line}\n`))}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
