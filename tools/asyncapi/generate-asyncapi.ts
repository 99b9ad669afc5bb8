/**
 * `npm run asyncapi`: writes libs/contracts/asyncapi.yaml from the topic
 * catalogue and message contracts. `--check` only reports whether the
 * checked-in file is current (exit 1 when stale), for CI.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASYNCAPI_FILE, ASYNCAPI_GENERATE_COMMAND, renderAsyncApiYaml } from '@baton/contracts';

function main(): void {
  const file = join(__dirname, '..', '..', ASYNCAPI_FILE);
  const rendered = renderAsyncApiYaml();
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (process.argv.includes('--check')) {
    if (current === rendered) {
      console.log(`${ASYNCAPI_FILE} is up to date`);
      return;
    }
    console.error(`${ASYNCAPI_FILE} is stale: run \`${ASYNCAPI_GENERATE_COMMAND}\``);
    process.exitCode = 1;
    return;
  }
  if (current === rendered) {
    console.log(`${ASYNCAPI_FILE} unchanged`);
    return;
  }
  writeFileSync(file, rendered);
  console.log(`wrote ${ASYNCAPI_FILE}`);
}

main();
