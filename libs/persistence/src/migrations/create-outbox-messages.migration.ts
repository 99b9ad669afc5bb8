import type { MigrationInterface, QueryRunner } from 'typeorm';
import { qualifiedName, quoteIdentifier } from '../data-source/identifiers';
import { schemaOf } from '../data-source/postgres-schema';

/**
 * The transactional outbox. `seq` orders publication; `value` holds the exact
 * bytes the relay sends; the partial index keeps the relay's scan proportional
 * to the backlog, not to history.
 * The timestamp is deliberately old so every service migration sorts after it.
 */
export class CreateOutboxMessages1700000000000 implements MigrationInterface {
  readonly name = 'CreateOutboxMessages1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner.connection);
    const table = qualifiedName(schema, 'outbox_messages');
    await queryRunner.query(`
      CREATE TABLE ${table} (
        seq          bigserial   PRIMARY KEY,
        id           uuid        NOT NULL,
        topic        text        NOT NULL,
        message_key  text        NOT NULL,
        value        bytea       NOT NULL,
        headers      jsonb       NOT NULL DEFAULT '{}'::jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz NULL,
        attempts     integer     NOT NULL DEFAULT 0,
        last_error   text        NULL,
        CONSTRAINT outbox_messages_id_unique UNIQUE (id)
      )`);
    await queryRunner.query(
      `CREATE INDEX ${quoteIdentifier('outbox_messages_unpublished_idx')} ON ${table} (seq) WHERE published_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${qualifiedName(schemaOf(queryRunner.connection), 'outbox_messages')}`);
  }
}
