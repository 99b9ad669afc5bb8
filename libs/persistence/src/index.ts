export * from './errors';
export { quoteIdentifier, qualifiedName, outboxChannel, advisoryLockKey, type AdvisoryLockPurpose } from './data-source/identifiers';
export { schemaOf } from './data-source/postgres-schema';
export { combineStatements, type SqlStatement } from './data-source/sql-statement';
export {
  createServiceDataSource,
  MIGRATIONS_TABLE,
  type EntityClass,
  type ServiceDataSourceOptions,
} from './data-source/create-service-data-source';
export { initializeDataSource, isDataSourceReady } from './data-source/initialize-data-source';
export { SHARED_MIGRATIONS, type MigrationClass } from './migrations/shared-migrations';
export { OutboxMessage } from './outbox/outbox-message.entity';
export { Outbox, queued, type QueuedMessage } from './outbox/outbox';
export { buildOutboxHeaders } from './outbox/outbox-headers';
export { type OutboxClaimOptions } from './outbox/outbox-claims';
export { CLAIMS_SCHEMA, CLAIMS_TABLE } from './claims/claims-table';
export { PostgresClaimStore, pruneClaims, writeClaim } from './claims/postgres-claim-store';
export { ClaimRetention, type ClaimRetentionOptions } from './nest/claim-retention';
export {
  CLAIM_STORE,
  ClaimStoreModule,
  ClaimStoreShutdown,
  type ClaimStoreModuleAsyncOptions,
  type ClaimStoreModuleOptions,
} from './nest/claim-store.module';
export type { OutboxPublisher, OutboxRecord } from './outbox/outbox-publisher';
export { OutboxRelay, type OutboxRelayLogger, type OutboxRelayOptions } from './outbox/outbox-relay';
export { InboxMessage } from './inbox/inbox-message.entity';
export { Inbox, pruneInbox, type HandleOnceResult } from './inbox/inbox';
export { PersistenceModule, type PersistenceModuleOptions, type PersistenceModuleAsyncOptions } from './nest/persistence.module';
export { PersistenceHealth } from './nest/persistence-health';
export { OUTBOX_PUBLISHER } from './nest/persistence.tokens';
