import { z } from 'zod';
import { ContractValidationError, describeIssues } from '@baton/contracts';

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const routerEnvironmentSchema = z.object({
  ROUTER_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** The platform convention (PaaS, spawned processes); ROUTER_PORT wins when both are set. */
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BATON_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  ROUTER_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('router'),
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, 'must be host:port')).min(1)),
  BATON_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(''),
  BATON_API_KEYS: csv.pipe(z.array(z.string().min(16, 'API keys must be at least 16 characters')).min(1)),
  BATON_LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  ROUTER_DEFAULT_STEP_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  ROUTER_MAX_ATTEMPTS: z.coerce.number().int().positive().max(20).default(3),
  /** First retry delay when a step declares no retry policy; doubles per attempt. */
  ROUTER_RETRY_BACKOFF_MS: z.coerce.number().int().nonnegative().max(3_600_000).default(500),
  /** How often due retries and expired attempts are looked for. */
  ROUTER_TIMER_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  /** A folder of workflow definitions (*.json, *.yaml, *.yml) registered at start-up. */
  ROUTER_DEFINITIONS_DIR: z.string().min(1).optional(),
  /** Access policies (JSON or YAML) deciding which agents may touch which data scopes; none: default deny. */
  ROUTER_POLICY_FILE: z.string().min(1).optional(),
  /** An agent without a heartbeat for this long is dead: its open tasks move to other agents. */
  ROUTER_AGENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  /**
   * How long the agents offering a capability (and their liveness) are reused between dispatches; 0 reads them for
   * every transaction. Bounded by the heartbeat timeout: liveness is never judged on older information than that.
   */
  ROUTER_AGENT_CACHE_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  /** How long a router that died without leaving keeps its partitions; Kafka's minimum is 6000. */
  ROUTER_KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /**
   * Partitions handled at once; per-workflow order holds because workflow topics are keyed by workflow id. One: a
   * transaction takes a fetched batch, so one at a time means fewer, larger transactions and no two of them racing
   * for the same agents' reservation locks (on 2 cores, 1 sustained more steps/s than 2 or 4).
   */
  ROUTER_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** How long a step waits for an eligible agent unless its definition says otherwise. */
  ROUTER_AGENT_WAIT_TIMEOUT_MS: z.coerce.number().int().positive().max(86_400_000).default(300_000),
  /** Envelopes serialized above this travel by claim check (payload in Postgres, reference on Kafka). */
  BATON_CLAIM_THRESHOLD_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(262_144),
  /** Claims older than this are deleted; keep it at least as long as Kafka keeps the messages. */
  BATON_CLAIM_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(7),
  /** Reject submissions naming a capability no agent ever announced (off: such steps wait for an agent). */
  ROUTER_REJECT_UNKNOWN_CAPABILITIES: z
    .enum(['true', 'false'])
    .default('true')
    .transform((value) => value === 'true'),
  /** Largest workflow input accepted (serialized JSON), over HTTP and Kafka. */
  ROUTER_MAX_INPUT_BYTES: z.coerce.number().int().positive().max(1_073_741_824).default(10_485_760),
  /** Largest workflow definition accepted (serialized JSON). */
  ROUTER_MAX_DEFINITION_BYTES: z.coerce.number().int().positive().max(104_857_600).default(1_048_576),
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
  retryBackoffMs: number;
  timerIntervalMs: number;
  definitionsDir: string | undefined;
  policyFile: string | undefined;
  agentTimeoutMs: number;
  agentCacheMs: number;
  agentWaitTimeoutMs: number;
  kafkaSessionTimeoutMs: number;
  consumerConcurrency: number;
  claimThresholdBytes: number;
  claimRetentionDays: number;
  rejectUnknownCapabilities: boolean;
  maxInputBytes: number;
  maxDefinitionBytes: number;
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
    retryBackoffMs: e.ROUTER_RETRY_BACKOFF_MS,
    timerIntervalMs: e.ROUTER_TIMER_INTERVAL_MS,
    definitionsDir: e.ROUTER_DEFINITIONS_DIR,
    policyFile: e.ROUTER_POLICY_FILE,
    agentTimeoutMs: e.ROUTER_AGENT_TIMEOUT_MS,
    agentCacheMs: Math.min(e.ROUTER_AGENT_CACHE_MS, e.ROUTER_AGENT_TIMEOUT_MS),
    agentWaitTimeoutMs: e.ROUTER_AGENT_WAIT_TIMEOUT_MS,
    kafkaSessionTimeoutMs: e.ROUTER_KAFKA_SESSION_TIMEOUT_MS,
    consumerConcurrency: e.ROUTER_CONSUMER_CONCURRENCY,
    claimThresholdBytes: e.BATON_CLAIM_THRESHOLD_BYTES,
    claimRetentionDays: e.BATON_CLAIM_RETENTION_DAYS,
    rejectUnknownCapabilities: e.ROUTER_REJECT_UNKNOWN_CAPABILITIES,
    maxInputBytes: e.ROUTER_MAX_INPUT_BYTES,
    maxDefinitionBytes: e.ROUTER_MAX_DEFINITION_BYTES,
  };
}

export const ROUTER_CONFIG = Symbol('ROUTER_CONFIG');
