import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureClaimsTableInTransaction } from '../claims/claims-table';

/**
 * The shared claim-check table (schema baton_claims, not the service's own):
 * every service schema's migrations ensure it exists, so any service with an
 * outbox can claim-check what it publishes.
 */
export class CreateClaims1700000000002 implements MigrationInterface {
  readonly name = 'CreateClaims1700000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await ensureClaimsTableInTransaction((sql, params) => queryRunner.query(sql, params));
  }

  /** Other services' claims live in the same table: reverting one service must not drop them. */
  async down(): Promise<void> {
    return Promise.resolve();
  }
}
