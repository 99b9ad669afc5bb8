import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { createServiceDataSource, qualifiedName, schemaOf } from '../index';

/**
 * A stand-in for a service's own state: the row whose change causes messages,
 * created by a schema-aware service migration like a real service would ship.
 */
export class CreateTestOrders1763942400000 implements MigrationInterface {
  readonly name = 'CreateTestOrders1763942400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner.connection);
    await queryRunner.query(`CREATE TABLE ${qualifiedName(schema, 'test_orders')} (id uuid PRIMARY KEY, note text NOT NULL)`);
    await queryRunner.query(
      `CREATE TABLE ${qualifiedName(schema, 'test_effects')} (envelope_id uuid NOT NULL, consumer text NOT NULL, note text NOT NULL)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner.connection);
    await queryRunner.query(`DROP TABLE ${qualifiedName(schema, 'test_effects')}`);
    await queryRunner.query(`DROP TABLE ${qualifiedName(schema, 'test_orders')}`);
  }
}

export function createTestDataSource(url: string, schema: string, applicationName?: string): DataSource {
  return createServiceDataSource({
    url,
    schema,
    entities: [],
    migrations: [CreateTestOrders1763942400000],
    poolSize: 4,
    ...(applicationName !== undefined ? { applicationName } : {}),
  });
}

export async function insertOrder(manager: EntityManager, id: string, note: string): Promise<void> {
  await manager.query(`INSERT INTO ${qualifiedName(schemaOf(manager.connection), 'test_orders')} (id, note) VALUES ($1, $2)`, [id, note]);
}

export async function insertEffect(manager: EntityManager, envelopeId: string, consumer: string, note: string): Promise<void> {
  await manager.query(
    `INSERT INTO ${qualifiedName(schemaOf(manager.connection), 'test_effects')} (envelope_id, consumer, note) VALUES ($1, $2, $3)`,
    [envelopeId, consumer, note],
  );
}

export async function countRows(dataSource: DataSource, table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const rows: { count: number }[] = await dataSource.query(
    `SELECT count(*)::int AS count FROM ${qualifiedName(schemaOf(dataSource), table)} WHERE ${where}`,
    params,
  );
  return rows[0]?.count ?? 0;
}
