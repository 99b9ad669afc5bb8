import { z } from 'zod';
import { ContractValidationError, describeIssues } from '@baton/contracts';

const csv = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));

const routerEnvironmentSchema = z.object({
  ROUTER_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** The platform convention (PaaS, spawned processes); ROUTER_PORT wins when both are set. */
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BATON_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  ROUTER_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('router'),
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, 'must be host:port')).min(1)),
  BATON_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/).default(''),
  BATON_API_KEYS: csv.pipe(z.array(z.string().min(16, 'API keys must be at least 16 characters')).min(1)),
  BATON_LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  ROUTER_DEFAULT_STEP_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  ROUTER_MAX_ATTEMPTS: z.coerce.number().int().positive().max(20).default(3),
});

export interface RouterConfig {
  port: number;
  host: string;
  databaseUrl: string;
  dbSchema: string;
  kafkaBrokers: string[];
  topicPrefix: string;
  apiKeys: string[];
  logLevel: 'debug' | 'log' | 'warn' | 'error';
  defaultStepTimeoutMs: number;
  maxAttempts: number;
}

/** Validated once at start-up; a bad variable stops the process with its name. */
export function loadRouterConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const parsed = routerEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ContractValidationError(describeIssues(parsed.error), 'invalid router configuration');
  }
  const e = parsed.data;
  return {
    port: e.ROUTER_PORT ?? e.PORT ?? 3100,
    host: e.BATON_HTTP_HOST,
    databaseUrl: e.DATABASE_URL,
    dbSchema: e.ROUTER_DB_SCHEMA,
    kafkaBrokers: e.KAFKA_BROKERS,
    topicPrefix: e.BATON_TOPIC_PREFIX,
    apiKeys: e.BATON_API_KEYS,
    logLevel: e.BATON_LOG_LEVEL,
    defaultStepTimeoutMs: e.ROUTER_DEFAULT_STEP_TIMEOUT_MS,
    maxAttempts: e.ROUTER_MAX_ATTEMPTS,
  };
}

export const ROUTER_CONFIG = Symbol('ROUTER_CONFIG');
