/**
 * Bind the Kafka side of the relay here, anywhere in the application:
 * `{ provide: OUTBOX_PUBLISHER, useExisting: KafkaBus }`. It is looked up
 * app-wide at bootstrap, so it need not be imported into PersistenceModule.
 */
export const OUTBOX_PUBLISHER = Symbol('OUTBOX_PUBLISHER');

export const PERSISTENCE_OPTIONS = Symbol('PERSISTENCE_OPTIONS');
