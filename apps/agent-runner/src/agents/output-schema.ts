import { z } from 'zod';

/**
 * The output-schema language of agent definitions: a small, documented subset
 * of JSON Schema, so a definition stays portable (an external agent or a
 * provider's structured-output mode can use the same schema) without pulling a
 * full JSON Schema engine into the runner.
 *
 * Supported keywords: `type` (object, array, string, number, integer, boolean,
 * null, or a list of them), `properties`, `required`, `additionalProperties`
 * (boolean only), `items`, `enum`, `minimum`, `maximum`, `minLength`,
 * `maxLength`, `minItems`, `maxItems`, `description` (ignored). Anything else
 * is rejected when the definition is loaded, so nobody believes a keyword is
 * enforced when it is not.
 */
export interface OutputSchema {
  type?: SchemaType | SchemaType[];
  description?: string;
  properties?: Record<string, OutputSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: OutputSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

const SCHEMA_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'] as const;
type SchemaType = (typeof SCHEMA_TYPES)[number];

const count = z.number().int().nonnegative();
export const outputSchemaSchema: z.ZodType<OutputSchema> = z.lazy(() =>
  z
    .object({
      type: z.union([z.enum(SCHEMA_TYPES), z.array(z.enum(SCHEMA_TYPES)).min(1)]).optional(),
      description: z.string().optional(),
      properties: z.record(z.string(), outputSchemaSchema).optional(),
      required: z.array(z.string()).optional(),
      additionalProperties: z.boolean().optional(),
      items: outputSchemaSchema.optional(),
      enum: z.array(z.json()).min(1).optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
      minLength: count.optional(),
      maxLength: count.optional(),
      minItems: count.optional(),
      maxItems: count.optional(),
    })
    .strict(),
);

/** Every violation of `schema` by `value`, each named by its JSON path (`$.findings[2].severity: ...`). */
export function validateOutput(schema: OutputSchema, value: unknown, path = '$'): string[] {
  const issues: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => hasType(value, type))) {
      return [`${path}: must be ${types.join(' or ')}, got ${typeName(value)}`];
    }
  }
  if (schema.enum && !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
    issues.push(`${path}: must be one of ${schema.enum.map((option) => JSON.stringify(option)).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) issues.push(`${path}: must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) issues.push(`${path}: must be <= ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      issues.push(`${path}: must have at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      issues.push(`${path}: must have at most ${schema.maxLength} characters`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      issues.push(`${path}: must have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) issues.push(`${path}: must have at most ${schema.maxItems} items`);
    const items = schema.items;
    if (items) value.forEach((item, index) => issues.push(...validateOutput(items, item, `${path}[${index}]`)));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    // Own fields only: `constructor` or `toString` must neither satisfy `required` nor pass as a declared property.
    for (const key of schema.required ?? []) if (!Object.hasOwn(record, key)) issues.push(`${path}.${key}: required`);
    for (const [key, child] of Object.entries(record)) {
      const property = schema.properties !== undefined && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (property) issues.push(...validateOutput(property, child, `${path}.${key}`));
      else if (schema.additionalProperties === false) issues.push(`${path}.${key}: is not allowed`);
    }
  }
  return issues;
}

function hasType(value: unknown, type: SchemaType): boolean {
  switch (type) {
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    case 'string':
    case 'boolean':
      return typeof value === type;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
