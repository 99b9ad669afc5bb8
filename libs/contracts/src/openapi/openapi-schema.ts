import { z } from 'zod';
import { jsonValueSchema } from '../messages/common';

type SchemaNode = { [key: string]: unknown };

/**
 * An OpenAPI 3.0 schema object for a zod schema, for HTTP documentation. The
 * recursive JSON value type becomes "any JSON value" and every definition is
 * inlined, because an inline OpenAPI schema cannot point at `#/definitions`.
 */
export function toOpenApiSchema(schema: z.ZodType): SchemaNode {
  const generated = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema !== jsonValueSchema) return;
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as SchemaNode)[key];
      (ctx.jsonSchema as SchemaNode)['description'] = 'any JSON value';
    },
  }) as SchemaNode;
  const definitions = (generated['definitions'] ?? {}) as Record<string, SchemaNode>;
  delete generated['definitions'];
  return inline(generated, definitions, new Set()) as SchemaNode;
}

function inline(node: unknown, definitions: Record<string, SchemaNode>, expanding: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((item) => inline(item, definitions, expanding));
  if (node === null || typeof node !== 'object') return node;
  const object = node as SchemaNode;
  const ref = object['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/definitions/')) {
    const name = ref.slice('#/definitions/'.length);
    const target = definitions[name];
    if (!target || expanding.has(name)) return { description: `recursive ${name}` };
    const { $ref: _ref, ...rest } = object;
    const expanded = inline(target, definitions, new Set([...expanding, name])) as SchemaNode;
    return { ...expanded, ...(inline(rest, definitions, expanding) as SchemaNode) };
  }
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, inline(value, definitions, expanding)]));
}
