/**
 * `npm run openapi`: writes each app's OpenAPI document, generated from its
 * controllers, next to the app. Unit tests fail when a checked-in copy is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRouterOpenApiDocument, renderOpenApiYaml } from '../../apps/router/src/openapi/openapi-document';
import { buildContextGraphOpenApiDocument } from '../../apps/context-graph/src/openapi/openapi-document';

async function main(): Promise<void> {
  const root = join(__dirname, '..', '..');
  const documents = [
    { app: 'router', build: buildRouterOpenApiDocument },
    { app: 'context-graph', build: buildContextGraphOpenApiDocument },
  ];
  for (const { app, build } of documents) {
    const file = join(root, 'apps', app, 'openapi.yaml');
    writeFileSync(file, renderOpenApiYaml(await build()));
    console.log(`wrote ${file}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
