import type { JsonValue } from '@baton/contracts';

/**
 * A jsonb column's value. Declared opaque to TypeORM because its find/update
 * types recurse without end into a recursive JSON type; values were validated
 * as JsonValue before they were written, so reading them back as such is safe.
 */
export type StoredJson = { readonly __storedJson?: never } | string | number | boolean;

export function toStoredJson(value: JsonValue): StoredJson {
  return value as StoredJson;
}

export function fromStoredJson(value: StoredJson): JsonValue {
  return value as JsonValue;
}
