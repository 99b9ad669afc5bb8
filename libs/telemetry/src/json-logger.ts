import type { LoggerService, LogLevel } from '@nestjs/common';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { currentLogContext } from './log-context';

export interface JsonLoggerOptions {
  /** The service name written on every line. */
  service: string;
  /** Default context when a call names none (Nest passes it as the last argument). */
  context?: string;
  /** Lowest level written; default 'log'. */
  level?: LogLevel;
  /** Where lines go; default stdout for verbose/debug/log and stderr for warn/error/fatal. */
  sink?: LogSink;
}

export type LogSink = (stream: 'stdout' | 'stderr', line: string) => void;

const SEVERITY: Record<LogLevel, number> = { verbose: 0, debug: 1, log: 2, warn: 3, error: 4, fatal: 5 };

/** Written first and never overwritten by structured fields, so every line has the same shape. */
const RESERVED = new Set(['time', 'level', 'service', 'context', 'msg']);

const STACK_LINE = /\n\s+at .+/;

const writeToProcess: LogSink = (stream, line) => {
  (stream === 'stdout' ? process.stdout : process.stderr).write(line);
};

/**
 * A Nest LoggerService writing one JSON object per line, enriched with the
 * log context (correlation and workflow ids) and the active span's ids so a
 * line can be joined to its trace.
 */
export class JsonLogger implements LoggerService {
  private readonly service: string;
  private readonly defaultContext: string | undefined;
  private readonly sink: LogSink;
  private enabled: ReadonlySet<LogLevel>;

  constructor(options: JsonLoggerOptions) {
    this.service = options.service;
    this.defaultContext = options.context;
    this.sink = options.sink ?? writeToProcess;
    this.enabled = levelsFrom(options.level ?? 'log');
  }

  /** A logger for one component, sharing this one's service, threshold and sink. */
  child(componentContext: string): JsonLogger {
    const child = new JsonLogger({ service: this.service, context: componentContext, sink: this.sink });
    child.enabled = this.enabled;
    return child;
  }

  setLogLevels(levels: LogLevel[]): void {
    this.enabled = new Set(levels);
  }

  isLevelEnabled(level: LogLevel): boolean {
    return this.enabled.has(level);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('verbose', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('log', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  private write(level: LogLevel, message: unknown, optionalParams: unknown[]): void {
    if (!this.enabled.has(level)) return;
    const { contextName, stack, rest } = splitNestParams(optionalParams);
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      service: this.service,
      context: contextName ?? this.defaultContext,
      msg: '',
    };
    addMessage(entry, message);
    if (stack !== undefined && entry['err'] === undefined) entry['err'] = { stack };
    for (const extra of rest) addExtra(entry, extra);
    addCorrelation(entry);
    const stream = SEVERITY[level] >= SEVERITY.warn ? 'stderr' : 'stdout';
    this.sink(stream, `${safeStringify(entry)}\n`);
  }
}

function levelsFrom(threshold: LogLevel): Set<LogLevel> {
  return new Set((Object.keys(SEVERITY) as LogLevel[]).filter((level) => SEVERITY[level] >= SEVERITY[threshold]));
}

/**
 * Nest's convention: the last string argument is the context, and for errors a
 * string that looks like a stack trace comes before it.
 */
function splitNestParams(params: unknown[]): { contextName?: string; stack?: string; rest: unknown[] } {
  const rest = [...params];
  let contextName: string | undefined;
  let stack: string | undefined;
  const last = rest[rest.length - 1];
  if (typeof last === 'string' && !STACK_LINE.test(last)) {
    contextName = last;
    rest.pop();
  }
  const stackIndex = rest.findIndex((param) => typeof param === 'string' && STACK_LINE.test(param));
  if (stackIndex >= 0) {
    stack = rest[stackIndex] as string;
    rest.splice(stackIndex, 1);
  }
  return {
    ...(contextName !== undefined ? { contextName } : {}),
    ...(stack !== undefined ? { stack } : {}),
    rest,
  };
}

function addMessage(entry: Record<string, unknown>, message: unknown): void {
  if (message instanceof Error) {
    entry['msg'] = message.message;
    entry['err'] = serializeError(message);
  } else if (isPlainObject(message)) {
    const { msg, message: text, ...fields } = message;
    entry['msg'] = typeof msg === 'string' ? msg : typeof text === 'string' ? text : '';
    mergeFields(entry, fields);
  } else {
    entry['msg'] = typeof message === 'string' ? message : safeStringify(message);
  }
}

function addExtra(entry: Record<string, unknown>, extra: unknown): void {
  if (extra instanceof Error) {
    entry['err'] = serializeError(extra);
  } else if (isPlainObject(extra)) {
    mergeFields(entry, extra);
  } else if (extra !== undefined) {
    const args = Array.isArray(entry['args']) ? (entry['args'] as unknown[]) : [];
    entry['args'] = [...args, extra];
  }
}

function mergeFields(entry: Record<string, unknown>, fields: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(fields)) {
    if (RESERVED.has(key)) continue;
    entry[key] = value instanceof Error ? serializeError(value) : value;
  }
}

/** Log-context and span ids, unless the call already set them explicitly. */
function addCorrelation(entry: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(currentLogContext())) {
    if (!RESERVED.has(key) && entry[key] === undefined && value !== undefined) entry[key] = value;
  }
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (spanContext !== undefined && isSpanContextValid(spanContext)) {
    entry['traceId'] ??= spanContext.traceId;
    entry['spanId'] ??= spanContext.spanId;
  }
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  cause?: SerializedError | string;
  [field: string]: unknown;
}

export function serializeError(error: Error): SerializedError {
  const out: SerializedError = { name: error.name, message: error.message };
  if (error.stack !== undefined) out.stack = error.stack;
  // Typed errors carry their details as own properties (e.g. ContractValidationError.issues).
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'name' && key !== 'message' && key !== 'stack' && key !== 'cause') out[key] = value;
  }
  if (error.cause !== undefined) {
    out.cause = error.cause instanceof Error ? serializeError(error.cause) : String(error.cause);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** JSON that never throws: repeated or cyclic objects become "[Circular]", bigints strings. */
function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  const out = JSON.stringify(value, (_key, current: unknown) => {
    if (typeof current === 'bigint') return current.toString();
    if (current instanceof Error) return serializeError(current);
    if (current !== null && typeof current === 'object') {
      if (seen.has(current)) return '[Circular]';
      seen.add(current);
    }
    return current;
  });
  return out ?? String(value);
}
