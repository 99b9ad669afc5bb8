/** A name Postgres would reject or silently truncate (schema, channel). */
export class InvalidIdentifierError extends Error {
  override readonly name = 'InvalidIdentifierError';
}

/** A DataSource or module set up in a way persistence cannot work with. */
export class PersistenceConfigError extends Error {
  override readonly name = 'PersistenceConfigError';
}

/** The outbox or inbox was called in a way that would break its guarantees. */
export class PersistenceUsageError extends Error {
  override readonly name = 'PersistenceUsageError';
}
