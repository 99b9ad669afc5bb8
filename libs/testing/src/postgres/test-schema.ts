import { Client } from 'pg';

import { uniqueName } from '../isolation/unique-name';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function assertSchemaName(schema: string): void {
  // Identifiers cannot be bound as parameters; only accept names that need no quoting.
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh schema (default name `t_<random>`) so a test owns its tables; returns its name. */
export async function createTestSchema(url: string, schema: string = uniqueName('t_')): Promise<string> {
  assertSchemaName(schema);
  await withClient(url, (client) => client.query(`create schema "${schema}"`));
  return schema;
}

/** Drops a schema made by createTestSchema with everything in it; absent is fine. */
export async function dropTestSchema(url: string, schema: string): Promise<void> {
  assertSchemaName(schema);
  await withClient(url, (client) => client.query(`drop schema if exists "${schema}" cascade`));
}

/** DATABASE_URL variant whose connections use `schema` first (libpq `options`, honoured by pg). */
export function urlWithSearchPath(url: string, schema: string): string {
  assertSchemaName(schema);
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}
