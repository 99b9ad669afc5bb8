import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRouterOpenApiDocument, renderOpenApiYaml } from './openapi-document';

describe('router OpenAPI document', () => {
  it('matches the checked-in apps/router/openapi.yaml (regenerate with `npm run openapi`)', async () => {
    const generated = renderOpenApiYaml(await buildRouterOpenApiDocument());
    const checkedIn = readFileSync(join(__dirname, '..', '..', 'openapi.yaml'), 'utf8');
    expect(generated).toBe(checkedIn);
  });

  it('documents the workflow routes with their bodies, errors and security', async () => {
    const document = await buildRouterOpenApiDocument();
    const post = document.paths['/workflows']?.post;
    expect(post?.requestBody).toBeDefined();
    expect(Object.keys(post?.responses ?? {}).sort()).toEqual(['202', '400', '401', '404', '413', '422']);
    expect(document.paths['/workflows/{id}']?.get?.responses).toHaveProperty('404');
    expect(Object.keys(document.paths['/workflows/{id}/cancel']?.post?.responses ?? {}).sort()).toEqual([
      '202',
      '400',
      '401',
      '404',
      '409',
    ]);
    expect(document.paths['/definitions']?.post?.responses).toHaveProperty('400');
    expect(document.paths['/definitions']?.get?.parameters).toEqual([expect.objectContaining({ name: 'trigger', in: 'query' })]);
    expect(document.components?.securitySchemes).toHaveProperty('api-key');
  });
});
