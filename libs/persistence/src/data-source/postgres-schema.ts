import type { DataSource } from 'typeorm';
import { PersistenceConfigError } from '../errors';

/** The schema a service DataSource lives in; everything we create is qualified with it. */
export function schemaOf(dataSource: DataSource): string {
  const options = dataSource.options;
  if (options.type !== 'postgres') {
    throw new PersistenceConfigError(`persistence needs a postgres DataSource, got ${options.type}`);
  }
  if (options.schema === undefined || options.schema === '') {
    throw new PersistenceConfigError('the DataSource has no schema; create it with createServiceDataSource');
  }
  return options.schema;
}
