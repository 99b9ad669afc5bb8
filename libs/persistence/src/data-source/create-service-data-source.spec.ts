import type { MigrationInterface } from 'typeorm';
import { InvalidIdentifierError, PersistenceConfigError } from '../errors';
import { InboxMessage } from '../inbox/inbox-message.entity';
import { SHARED_MIGRATIONS } from '../migrations/shared-migrations';
import { OutboxMessage } from '../outbox/outbox-message.entity';
import { createServiceDataSource, MIGRATIONS_TABLE } from './create-service-data-source';

const noop = (): Promise<void> => Promise.resolve();

class CreateThings1763900000000 implements MigrationInterface {
  up = noop;
  down = noop;
}

class TooEarly1600000000000 implements MigrationInterface {
  up = noop;
  down = noop;
}

class NoTimestamp implements MigrationInterface {
  up = noop;
  down = noop;
}

class Thing {}

const url = 'postgres://baton:baton@127.0.0.1:5432/baton';

describe('createServiceDataSource', () => {
  it('confines the DataSource to the schema, never synchronizes, and adds the shared outbox and inbox', () => {
    const ds = createServiceDataSource({ url, schema: 'router', entities: [Thing], migrations: [CreateThings1763900000000] });
    expect(ds.isInitialized).toBe(false);
    expect(ds.options).toMatchObject({
      type: 'postgres',
      schema: 'router',
      synchronize: false,
      migrationsRun: false,
      migrationsTableName: MIGRATIONS_TABLE,
    });
    expect(ds.options.entities).toEqual([OutboxMessage, InboxMessage, Thing]);
    expect(ds.options.migrations).toEqual([...SHARED_MIGRATIONS, CreateThings1763900000000]);
  });

  it('rejects a service migration that would sort before the shared ones', () => {
    expect(() => createServiceDataSource({ url, schema: 'router', entities: [], migrations: [TooEarly1600000000000] })).toThrow(
      PersistenceConfigError,
    );
  });

  it('rejects a migration TypeORM could not order', () => {
    expect(() => createServiceDataSource({ url, schema: 'router', entities: [], migrations: [NoTimestamp] })).toThrow(/13-digit/);
  });

  it('rejects a schema name Postgres would truncate', () => {
    expect(() => createServiceDataSource({ url, schema: 's'.repeat(64), entities: [], migrations: [] })).toThrow(InvalidIdentifierError);
  });
});
