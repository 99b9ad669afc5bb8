import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The agent registry (from heartbeats) and steps waiting for an eligible agent. */
export class Agents1732600000000 implements MigrationInterface {
  name = 'Agents1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`
      CREATE TABLE ${schema}.agents (
        agent_id text PRIMARY KEY,
        instance_id text NOT NULL,
        team text NOT NULL,
        capabilities text[] NOT NULL,
        scopes text[] NOT NULL,
        models text[] NOT NULL,
        max_concurrency int NOT NULL,
        reported_in_flight int NOT NULL,
        started_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX agents_capabilities_idx ON ${schema}.agents USING gin (capabilities)`);
    await queryRunner.query(`ALTER TABLE ${schema}.workflow_steps DROP CONSTRAINT IF EXISTS workflow_steps_status_check`);
    await queryRunner.query(
      `ALTER TABLE ${schema}.workflow_steps ADD CONSTRAINT workflow_steps_status_check
         CHECK (status IN ('pending', 'waiting_for_agent', 'dispatched', 'retry_wait', 'completed', 'failed', 'cancelled'))`,
    );
    await queryRunner.query(`ALTER TABLE ${schema}.workflow_steps ADD COLUMN wait_reason text`);
    await queryRunner.query(
      `CREATE INDEX workflow_steps_agent_load_idx ON ${schema}.workflow_steps (agent_id) WHERE status = 'dispatched'`,
    );
    await queryRunner.query(
      `CREATE INDEX workflow_steps_waiting_idx ON ${schema}.workflow_steps (dispatched_at) WHERE status = 'waiting_for_agent'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`DROP INDEX ${schema}.workflow_steps_waiting_idx`);
    await queryRunner.query(`DROP INDEX ${schema}.workflow_steps_agent_load_idx`);
    await queryRunner.query(`ALTER TABLE ${schema}.workflow_steps DROP COLUMN wait_reason`);
    await queryRunner.query(`DROP TABLE ${schema}.agents`);
  }
}

function quoteSchema(queryRunner: QueryRunner): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema ?? 'public';
  return `"${schema.replace(/"/g, '""')}"`;
}
