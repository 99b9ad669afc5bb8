import { z } from 'zod';
import { jsonValueSchema } from '../messages/common';
import { toOpenApiSchema } from './openapi-schema';

describe('toOpenApiSchema', () => {
  it('inlines the JSON value type as "any JSON value" and leaves no definitions behind', () => {
    const schema = toOpenApiSchema(z.object({ input: jsonValueSchema, output: jsonValueSchema.nullable() }));
    const text = JSON.stringify(schema);
    expect(text).not.toContain('$ref');
    expect(text).not.toContain('definitions');
    expect(schema).toMatchObject({
      type: 'object',
      properties: { input: { description: 'any JSON value' } },
      required: ['input', 'output'],
    });
  });

  it('uses OpenAPI 3.0 nullability', () => {
    expect(toOpenApiSchema(z.string().nullable())).toEqual({ type: 'string', nullable: true });
  });
});
