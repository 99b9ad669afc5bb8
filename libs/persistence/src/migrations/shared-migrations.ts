import type { MigrationInterface } from 'typeorm';
import { CreateClaims1700000000002 } from './create-claims.migration';
import { CreateInboxMessages1700000000001 } from './create-inbox-messages.migration';
import { CreateOutboxMessages1700000000000 } from './create-outbox-messages.migration';

export type MigrationClass = new () => MigrationInterface;

/** Migrations every service schema gets, before its own. */
export const SHARED_MIGRATIONS: readonly MigrationClass[] = [
  CreateOutboxMessages1700000000000,
  CreateInboxMessages1700000000001,
  CreateClaims1700000000002,
];
