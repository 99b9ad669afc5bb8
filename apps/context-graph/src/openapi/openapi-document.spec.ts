import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildContextGraphOpenApiDocument, renderOpenApiYaml } from './openapi-document';

describe('context-graph OpenAPI document', () => {
  it('matches the checked-in apps/context-graph/openapi.yaml (regenerate with `npm run openapi`)', async () => {
    const generated = renderOpenApiYaml(await buildContextGraphOpenApiDocument());
    const checkedIn = readFileSync(join(__dirname, '..', '..', 'openapi.yaml'), 'utf8');
    expect(generated).toBe(checkedIn);
  });

  it('documents the context routes with their errors and security', async () => {
    const document = await buildContextGraphOpenApiDocument();
    expect(Object.keys(document.paths).sort()).toEqual([
      '/entities/{id}',
      '/entities/{id}/neighbourhood',
      '/facts',
      '/health/live',
      '/health/ready',
      '/workflows/{id}/context',
    ]);
    expect(Object.keys(document.paths['/facts']?.post?.responses ?? {}).sort()).toEqual(['201', '400', '401']);
    expect(document.components?.securitySchemes).toHaveProperty('api-key');
  });
});
