import type { JsonValue } from '@baton/contracts';

export interface MappingContext {
  input: JsonValue;
  previous: JsonValue;
  steps: Readonly<Record<string, JsonValue>>;
}

/**
 * Resolves a step's input mapping: strings starting with `$.` are references
 * into the workflow input, the previous output or an earlier step's output; any
 * other JSON is copied. A reference to a missing field resolves to null, so a
 * step sees the same input whether a field was absent or null. Only own fields
 * count: `$.previous.constructor` on an object without that field is missing
 * too, not the inherited function (which no envelope could carry).
 */
export function resolveMapping(mapping: JsonValue, context: MappingContext): JsonValue {
  if (typeof mapping === 'string') return mapping.startsWith('$.') ? resolveReference(mapping, context) : mapping;
  if (Array.isArray(mapping)) return mapping.map((item) => resolveMapping(item, context));
  if (mapping !== null && typeof mapping === 'object') {
    return Object.fromEntries(Object.entries(mapping).map(([key, value]) => [key, resolveMapping(value as JsonValue, context)]));
  }
  return mapping;
}

function resolveReference(reference: string, context: MappingContext): JsonValue {
  const [root, ...rest] = splitPath(reference.slice(2));
  if (root === 'input') return readPath(context.input, rest);
  if (root === 'previous') return readPath(context.previous, rest);
  if (root === 'steps') {
    const [stepId, ...path] = rest;
    if (stepId === undefined || !Object.hasOwn(context.steps, stepId)) return null;
    return readPath(context.steps[stepId] as JsonValue, path);
  }
  return null;
}

/** `a.b[2].c` → ['a', 'b', 2, 'c']. */
export function splitPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of path.split('.')) {
    if (part === '') continue;
    const match = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!match) {
      out.push(part);
      continue;
    }
    if (match[1]) out.push(match[1]);
    for (const index of (match[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

export function readPath(value: JsonValue, path: ReadonlyArray<string | number>): JsonValue {
  let current: JsonValue = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return null;
    if (Array.isArray(current)) {
      if (typeof segment !== 'number') return null;
      current = current[segment] ?? null;
    } else {
      const key = String(segment);
      current = Object.hasOwn(current, key) ? ((current as Record<string, JsonValue>)[key] ?? null) : null;
    }
  }
  return current;
}
