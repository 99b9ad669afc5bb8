import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWorkflows1732440000000 implements MigrationInterface {
  name = 'CreateWorkflows1732440000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`
      CREATE TABLE ${schema}.workflows (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        definition jsonb NOT NULL,
        input jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        output jsonb,
        error jsonb,
        correlation_id text NOT NULL,
        requested_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.workflow_steps (
        workflow_id uuid NOT NULL REFERENCES ${schema}.workflows(id) ON DELETE CASCADE,
        step_id text NOT NULL,
        position int NOT NULL,
        capability text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'dispatched', 'completed', 'failed')),
        attempt int NOT NULL DEFAULT 0,
        task_id uuid,
        input jsonb,
        output jsonb,
        confidence double precision,
        agent_id text,
        error jsonb,
        dispatched_at timestamptz,
        completed_at timestamptz,
        PRIMARY KEY (workflow_id, step_id)
      )`);
    await queryRunner.query(`CREATE INDEX workflows_status_idx ON ${schema}.workflows (status)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = quoteSchema(queryRunner);
    await queryRunner.query(`DROP TABLE ${schema}.workflow_steps`);
    await queryRunner.query(`DROP TABLE ${schema}.workflows`);
  }
}

function quoteSchema(queryRunner: QueryRunner): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema ?? 'public';
  return `"${schema.replace(/"/g, '""')}"`;
}
