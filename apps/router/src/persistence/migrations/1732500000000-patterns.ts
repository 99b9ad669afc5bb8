import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * All patterns: a step row is one runtime task node (`step`, `step:branch`,
 * `step:r1:subtask`...), created when first dispatched, with its timers
 * (deadline of the open attempt, earliest retry) and completion order; named
 * definitions get their own table.
 */
export class Patterns1732500000000 implements MigrationInterface {
  name = 'Patterns1732500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`ALTER TABLE ${schema}.workflows DROP CONSTRAINT IF EXISTS workflows_status_check`);
    await queryRunner.query(
      `ALTER TABLE ${schema}.workflows ADD CONSTRAINT workflows_status_check CHECK (status IN ('running', 'completed', 'failed', 'cancelled'))`,
    );
    await queryRunner.query(`ALTER TABLE ${schema}.workflows ADD COLUMN definition_name text`);
    await queryRunner.query(`ALTER TABLE ${schema}.workflow_steps DROP CONSTRAINT IF EXISTS workflow_steps_status_check`);
    await queryRunner.query(
      `ALTER TABLE ${schema}.workflow_steps ADD CONSTRAINT workflow_steps_status_check
         CHECK (status IN ('pending', 'dispatched', 'retry_wait', 'completed', 'failed', 'cancelled'))`,
    );
    await queryRunner.query(`
      ALTER TABLE ${schema}.workflow_steps
        ADD COLUMN spec jsonb,
        ADD COLUMN deadline_at timestamptz,
        ADD COLUMN not_before timestamptz,
        ADD COLUMN completion_order int`);
    await queryRunner.query(
      `CREATE INDEX workflow_steps_deadline_idx ON ${schema}.workflow_steps (deadline_at) WHERE status = 'dispatched'`,
    );
    await queryRunner.query(`CREATE INDEX workflow_steps_retry_idx ON ${schema}.workflow_steps (not_before) WHERE status = 'retry_wait'`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.workflow_definitions (
        name text PRIMARY KEY,
        version int NOT NULL,
        definition jsonb NOT NULL,
        source text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`DROP TABLE ${schema}.workflow_definitions`);
    await queryRunner.query(`DROP INDEX ${schema}.workflow_steps_retry_idx`);
    await queryRunner.query(`DROP INDEX ${schema}.workflow_steps_deadline_idx`);
    await queryRunner.query(
      `ALTER TABLE ${schema}.workflow_steps DROP COLUMN spec, DROP COLUMN deadline_at, DROP COLUMN not_before, DROP COLUMN completion_order`,
    );
    await queryRunner.query(`ALTER TABLE ${schema}.workflows DROP COLUMN definition_name`);
  }
}

function quoteSchema(queryRunner: QueryRunner): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema ?? 'public';
  return `"${schema.replace(/"/g, '""')}"`;
}
