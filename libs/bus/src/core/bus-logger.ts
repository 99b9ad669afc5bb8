/** Structured fields attached to a log line (correlationId, topic, offset...). */
export type LogFields = Record<string, unknown>;

/**
 * The logging surface the bus needs. Apps pass their JSON logger; the default
 * writes one JSON object per line to stdout so logs stay machine-readable.
 */
export interface BusLogger {
  debug?(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

function writeLine(level: Level, message: string, fields: LogFields | undefined): void {
  const line = { time: new Date().toISOString(), level, logger: 'bus', message, ...fields };
  process.stdout.write(`${JSON.stringify(line, errorReplacer)}\n`);
}

// Error objects serialise to `{}` by default, which would hide the cause.
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export const jsonLineLogger: BusLogger = {
  info: (message, fields) => writeLine('info', message, fields),
  warn: (message, fields) => writeLine('warn', message, fields),
  error: (message, fields) => writeLine('error', message, fields),
};
