import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The W3C traceparent of the span each workflow started in, so transitions no
 * message causes (timers, cancellation) continue the workflow's trace.
 */
export class WorkflowTrace1732800000000 implements MigrationInterface {
  name = 'WorkflowTrace1732800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${quoteSchema(queryRunner)}.workflows ADD COLUMN trace_parent text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${quoteSchema(queryRunner)}.workflows DROP COLUMN trace_parent`);
  }
}

function quoteSchema(queryRunner: QueryRunner): string {
  const schema = (queryRunner.connection.options as { schema?: string }).schema ?? 'public';
  return `"${schema.replace(/"/g, '""')}"`;
}
