import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields every log line written inside `runWithLogContext` carries. */
export interface LogContextFields {
  correlationId?: string;
  workflowId?: string;
  [field: string]: unknown;
}

const storage = new AsyncLocalStorage<Readonly<LogContextFields>>();

/**
 * Runs `fn` with `fields` added to the log context; nested calls add to (and
 * may override) the enclosing fields, and the context follows async work.
 */
export function runWithLogContext<T>(fields: LogContextFields, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

export function currentLogContext(): Readonly<LogContextFields> {
  return storage.getStore() ?? {};
}
