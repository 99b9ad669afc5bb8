import { DataSource } from 'typeorm';
import { PersistenceConfigError } from '../errors';
import { InboxMessage } from '../inbox/inbox-message.entity';
import { type MigrationClass, SHARED_MIGRATIONS } from '../migrations/shared-migrations';
import { OutboxMessage } from '../outbox/outbox-message.entity';
import { assertIdentifier } from './identifiers';

export type EntityClass = abstract new (...args: never[]) => object;

export interface ServiceDataSourceOptions {
  /** postgres://user:pass@host:port/db */
  url: string;
  /** The service's schema (`router`, `governance`) or a unique test schema. */
  schema: string;
  /** The service's own entities; the outbox and inbox entities are added. */
  entities: readonly EntityClass[];
  /** The service's own migrations; they run after the shared ones. */
  migrations: readonly MigrationClass[];
  applicationName?: string;
  poolSize?: number;
}

export const MIGRATIONS_TABLE = 'typeorm_migrations';
const DEFAULT_POOL_SIZE = 10;

/**
 * TypeORM orders migrations by the 13-digit timestamp ending their name, not
 * by list position, so "service migrations run after the shared ones" only
 * holds if their timestamps say so.
 */
export function migrationTimestamp(migration: MigrationClass): number {
  const name = new migration().name ?? migration.name;
  const match = /(\d{13})$/.exec(name);
  if (!match) {
    throw new PersistenceConfigError(`migration ${name} must end with a 13-digit JavaScript timestamp`);
  }
  return Number(match[1]);
}

function checkMigrationOrder(service: readonly MigrationClass[]): void {
  const lastShared = Math.max(...SHARED_MIGRATIONS.map(migrationTimestamp));
  for (const migration of service) {
    if (migrationTimestamp(migration) <= lastShared) {
      throw new PersistenceConfigError(`migration ${migration.name} has a timestamp not after the shared migrations (${lastShared})`);
    }
  }
}

/**
 * A postgres DataSource confined to one schema: its tables, its migrations
 * table, the shared outbox/inbox. Never synchronizes; call initializeDataSource.
 */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  assertIdentifier(options.schema, 'schema');
  checkMigrationOrder(options.migrations);
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new PersistenceConfigError(`poolSize must be a positive integer, got ${poolSize}`);
  }
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    applicationName: options.applicationName ?? `baton-${options.schema}`,
    entities: [OutboxMessage, InboxMessage, ...options.entities],
    migrations: [...SHARED_MIGRATIONS, ...options.migrations],
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'all',
    migrationsRun: false,
    synchronize: false,
    dropSchema: false,
    poolSize,
  });
}
