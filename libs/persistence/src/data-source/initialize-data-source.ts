import { type DataSource, MigrationExecutor } from 'typeorm';
import { advisoryLockKey, quoteIdentifier } from './identifiers';
import { schemaOf } from './postgres-schema';

/**
 * Connects, creates the schema if missing and runs pending migrations, under a
 * session advisory lock per schema: two instances starting together would
 * otherwise race on CREATE SCHEMA and on the migrations table.
 */
export async function initializeDataSource(dataSource: DataSource): Promise<DataSource> {
  const schema = schemaOf(dataSource);
  if (!dataSource.isInitialized) await dataSource.initialize();
  const key = advisoryLockKey('migrations', schema);
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.connect();
    await queryRunner.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    try {
      await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      // Same connection as the lock, so the pool size never matters here.
      const executor = new MigrationExecutor(dataSource, queryRunner);
      executor.transaction = 'all';
      await executor.executePendingMigrations();
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    }
  } finally {
    await queryRunner.release();
  }
  return dataSource;
}

/** For readiness probes: initialized and the database answers. */
export async function isDataSourceReady(dataSource: DataSource): Promise<boolean> {
  if (!dataSource.isInitialized) return false;
  try {
    await dataSource.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
