import { type LogEntry, logLevel } from 'kafkajs';
import type { BusLogger } from './bus-logger';

/**
 * kafkajs warns on every idempotent producer whose retries are bounded. They
 * are bounded on purpose (see KafkaBus), so the warning is noise here.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer'];

/** Routes kafkajs' own logs (warnings and errors only) into the bus logger. */
export function kafkajsLogCreator(logger: BusLogger): () => (entry: LogEntry) => void {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const line = `kafkajs ${namespace}: ${message}`;
      switch (level) {
        case logLevel.ERROR:
          logger.error(line, fields);
          return;
        case logLevel.WARN:
          if (!EXPECTED_WARNINGS.some((expected) => message.startsWith(expected))) logger.warn(line, fields);
          return;
        case logLevel.INFO:
          logger.info(line, fields);
          return;
        case logLevel.DEBUG:
          logger.debug?.(line, fields);
          return;
        case logLevel.NOTHING:
          return;
      }
    };
}
