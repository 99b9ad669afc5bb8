import type { DataSource } from 'typeorm';
import { initializeDataSource, isDataSourceReady, MIGRATIONS_TABLE, qualifiedName } from '../src/index';
import { createTestDataSource } from '../src/testing/test-orders';
import { dropSchema, uniqueSchema } from '../src/testing/test-schema';

const url = process.env['DATABASE_URL'] ?? '';

describe('initializeDataSource on real Postgres', () => {
  const schemas: string[] = [];
  const sources: DataSource[] = [];

  function newSchema(label: string): string {
    const schema = uniqueSchema(label);
    schemas.push(schema);
    return schema;
  }

  function newSource(schema: string, applicationName?: string): DataSource {
    const dataSource = createTestDataSource(url, schema, applicationName);
    sources.push(dataSource);
    return dataSource;
  }

  async function migrationNames(dataSource: DataSource, schema: string): Promise<string[]> {
    const rows: { name: string }[] = await dataSource.query(`SELECT name FROM ${qualifiedName(schema, MIGRATIONS_TABLE)} ORDER BY id`);
    return rows.map((row) => row.name);
  }

  afterAll(async () => {
    for (const dataSource of sources) if (dataSource.isInitialized) await dataSource.destroy();
    for (const schema of schemas) await dropSchema(url, schema);
  });

  it('creates the outbox, inbox, service tables and the migrations table inside the given schema', async () => {
    const schema = newSchema('mig');
    const dataSource = await initializeDataSource(newSource(schema));

    const tables: { table_name: string }[] = await dataSource.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    expect(tables.map((row) => row.table_name)).toEqual([
      'inbox_messages',
      'outbox_messages',
      'test_effects',
      'test_orders',
      MIGRATIONS_TABLE,
    ]);
    const indexes: { indexdef: string }[] = await dataSource.query(
      "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'outbox_messages_unpublished_idx'",
      [schema],
    );
    expect(indexes[0]?.indexdef).toMatch(/WHERE \(published_at IS NULL\)/);
    // Shared migrations first, then the service's own.
    expect(await migrationNames(dataSource, schema)).toEqual([
      'CreateOutboxMessages1700000000000',
      'CreateInboxMessages1700000000001',
      'CreateClaims1700000000002',
      'CreateTestOrders1763942400000',
    ]);
  });

  it('is re-runnable: initializing again, on the same or a new DataSource, runs nothing', async () => {
    const schema = newSchema('rerun');
    const first = await initializeDataSource(newSource(schema));
    await initializeDataSource(first);
    const second = await initializeDataSource(newSource(schema));

    expect(await second.showMigrations()).toBe(false);
    expect(await migrationNames(second, schema)).toHaveLength(4);
  });

  it('lets several instances start at once on a fresh schema: all succeed, migrations run once', async () => {
    const schema = newSchema('race');
    const racing = [1, 2, 3, 4].map((n) => newSource(schema, `race-${n}`));

    await Promise.all(racing.map((dataSource) => initializeDataSource(dataSource)));

    expect(racing.every((dataSource) => dataSource.isInitialized)).toBe(true);
    expect(await migrationNames(racing[0] as DataSource, schema)).toHaveLength(4);
  });

  it('reports readiness only while initialized and answering', async () => {
    const dataSource = newSource(newSchema('ready'));
    expect(await isDataSourceReady(dataSource)).toBe(false);
    await initializeDataSource(dataSource);
    expect(await isDataSourceReady(dataSource)).toBe(true);
    await dataSource.destroy();
    expect(await isDataSourceReady(dataSource)).toBe(false);
  });
});
