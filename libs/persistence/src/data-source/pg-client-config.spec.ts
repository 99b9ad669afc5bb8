import { DataSource } from 'typeorm';
import { PersistenceConfigError } from '../errors';
import { pgClientConfig } from './pg-client-config';
import { schemaOf } from './postgres-schema';

describe('pgClientConfig', () => {
  it('reaches the same database as the DataSource, under its own application name', () => {
    const dataSource = new DataSource({
      type: 'postgres',
      url: 'postgres://baton:secret@db.internal:6543/baton',
      schema: 'router',
      ssl: { rejectUnauthorized: false, ca: 'CA' },
    });
    expect(pgClientConfig(dataSource, 'router-outbox-relay')).toEqual({
      application_name: 'router-outbox-relay',
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      connectionString: 'postgres://baton:secret@db.internal:6543/baton',
      ssl: { ca: 'CA', cert: undefined, key: undefined, passphrase: undefined, rejectUnauthorized: false },
    });
  });

  it('carries discrete connection fields when there is no url', () => {
    const dataSource = new DataSource({
      type: 'postgres',
      host: 'db',
      port: 5433,
      username: 'u',
      password: 'p',
      database: 'd',
      schema: 's',
    });
    expect(pgClientConfig(dataSource, 'x')).toEqual({
      application_name: 'x',
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      host: 'db',
      port: 5433,
      user: 'u',
      password: 'p',
      database: 'd',
    });
  });
});

describe('schemaOf', () => {
  it('refuses a DataSource without a schema: every table we touch is schema-qualified', () => {
    expect(() => schemaOf(new DataSource({ type: 'postgres', url: 'postgres://localhost/db' }))).toThrow(PersistenceConfigError);
    expect(schemaOf(new DataSource({ type: 'postgres', url: 'postgres://localhost/db', schema: 'router' }))).toBe('router');
  });
});
