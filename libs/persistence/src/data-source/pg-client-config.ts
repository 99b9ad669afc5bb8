import type { ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';
import { PersistenceConfigError } from '../errors';

/**
 * Connection settings for a dedicated `pg` client (LISTEN, session locks) that
 * reaches the same database as a TypeORM DataSource.
 */
export function pgClientConfig(dataSource: DataSource, applicationName: string): ClientConfig {
  const options = dataSource.options;
  if (options.type !== 'postgres') {
    throw new PersistenceConfigError(`persistence needs a postgres DataSource, got ${options.type}`);
  }
  const config: ClientConfig = {
    application_name: applicationName,
    // A relay holding the publishing lock must notice a dead peer, and stop() must not hang on a connect.
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
  };
  if (options.url !== undefined) config.connectionString = options.url;
  if (options.host !== undefined) config.host = options.host;
  if (options.port !== undefined) config.port = options.port;
  if (options.username !== undefined) config.user = options.username;
  if (options.password !== undefined) config.password = options.password;
  if (options.database !== undefined) config.database = options.database;
  if (typeof options.ssl === 'boolean') config.ssl = options.ssl;
  else if (options.ssl !== undefined) {
    // TypeORM types ssl with server-side TlsOptions; a client only needs these.
    const { ca, cert, key, passphrase, rejectUnauthorized } = options.ssl;
    config.ssl = { ca, cert, key, passphrase, rejectUnauthorized };
  }
  return config;
}
