import type { MigrationInterface, QueryRunner } from 'typeorm';
import { qualifiedName, quoteIdentifier } from '../data-source/identifiers';
import { schemaOf } from '../data-source/postgres-schema';

/**
 * The consumed-envelope inbox: one row per (consumer, envelope id) handled.
 * The primary key is what makes a redelivery a no-op, and what makes a
 * concurrent duplicate wait for the first handler's commit.
 */
export class CreateInboxMessages1700000000001 implements MigrationInterface {
  readonly name = 'CreateInboxMessages1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner.connection);
    const table = qualifiedName(schema, 'inbox_messages');
    await queryRunner.query(`
      CREATE TABLE ${table} (
        consumer    text        NOT NULL,
        envelope_id uuid        NOT NULL,
        handled_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT inbox_messages_pk PRIMARY KEY (consumer, envelope_id)
      )`);
    // Retention deletes by age.
    await queryRunner.query(`CREATE INDEX ${quoteIdentifier('inbox_messages_handled_at_idx')} ON ${table} (handled_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${qualifiedName(schemaOf(queryRunner.connection), 'inbox_messages')}`);
  }
}
