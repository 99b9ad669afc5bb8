import { z } from 'zod';
import { ContractValidationError, describeIssues, entityKindSchema, relationshipTypeSchema, scopeSchema } from '@baton/contracts';

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

export const BUILT_IN_ENTITY_KINDS = ['Service', 'Deployment', 'Incident', 'Customer', 'Ticket', 'Team', 'Agent'] as const;
export const BUILT_IN_RELATIONSHIP_TYPES = [
  'DEPENDS_ON',
  'OWNS',
  'AFFECTS',
  'DEPLOYS',
  'CAUSED_BY',
  'RELATES_TO',
  'REPORTED_BY',
  'ASSIGNED_TO',
  'MEMBER_OF',
] as const;

/** `key=scope1+scope2` pairs: the scopes an HTTP caller holding that API key reads with. */
const keyScopes = csv.pipe(
  z.array(
    z
      .string()
      .regex(/^[^=]{16,}=[A-Za-z0-9._:+-]*$/, 'must be <api-key>=<scope>+<scope>...')
      .transform((pair) => {
        const at = pair.lastIndexOf('=');
        return {
          key: pair.slice(0, at),
          scopes: pair
            .slice(at + 1)
            .split('+')
            .filter((scope) => scope !== ''),
        };
      })
      .pipe(z.object({ key: z.string(), scopes: z.array(scopeSchema) })),
  ),
);

const environmentSchema = z.object({
  CONTEXT_GRAPH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BATON_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  NEO4J_URI: z.string().regex(/^(bolt|neo4j)(\+s|\+ssc)?:\/\/.+/, 'must be a bolt:// or neo4j:// URI'),
  NEO4J_USER: z.string().min(1).default('neo4j'),
  NEO4J_PASSWORD: z.string().min(1),
  /**
   * Every node this instance writes carries this namespace and every query filters on it: Neo4j Community has one
   * database, so deployments (and tests) sharing a server stay apart. Defaults to the topic prefix.
   */
  CONTEXT_GRAPH_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .optional(),
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, 'must be host:port')).min(1)),
  /** Where the router's claim checks (payloads over the inline threshold) are read; none: such events go to the DLQ. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  BATON_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(''),
  BATON_API_KEYS: csv.pipe(z.array(z.string().min(16, 'API keys must be at least 16 characters')).min(1)),
  CONTEXT_API_KEY_SCOPES: keyScopes.default([]),
  CONTEXT_ENTITY_KINDS: csv.pipe(z.array(entityKindSchema)).default([]),
  CONTEXT_RELATIONSHIP_TYPES: csv.pipe(z.array(relationshipTypeSchema)).default([]),
  /** Facts per graph transaction: the fixed cost of a transaction (round trips, commit) is shared by this many. */
  CONTEXT_BATCH_MAX: z.coerce.number().int().positive().max(10_000).default(2_000),
  /**
   * Batch writes allowed in flight at once: while one commits (most of Neo4j's time per batch, on one thread) the
   * next executes, and the service prepares a third. Batches that must see earlier ones committed still wait.
   */
  CONTEXT_WRITES_IN_FLIGHT: z.coerce.number().int().min(1).max(8).default(2),
  /** Fallback for the push relay: it is woken after every commit that recorded pushes, and polls this often besides. */
  CONTEXT_PUSH_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /**
   * Tests only: the process SIGKILLs itself at this point, so a crash there can be proven harmless.
   * `after-facts-commit`: a batch whose facts (and pending pushes) committed, before anything was published.
   */
  CONTEXT_TEST_CRASH_AT: z.enum(['after-facts-commit']).optional(),
  BATON_LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
});

export interface ContextGraphConfig {
  port: number;
  host: string;
  neo4j: { uri: string; user: string; password: string };
  namespace: string;
  kafkaBrokers: string[];
  databaseUrl: string | undefined;
  topicPrefix: string;
  apiKeys: string[];
  /** API key → scopes; keys not listed read unscoped facts only. */
  apiKeyScopes: Map<string, string[]>;
  entityKinds: ReadonlySet<string>;
  relationshipTypes: ReadonlySet<string>;
  batchMax: number;
  writesInFlight: number;
  pushPollMs: number;
  testCrashAt: 'after-facts-commit' | undefined;
  logLevel: 'debug' | 'log' | 'warn' | 'error';
}

/** Validated once at start-up; a bad variable stops the process with its name. */
export function loadContextGraphConfig(env: NodeJS.ProcessEnv = process.env): ContextGraphConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ContractValidationError(describeIssues(parsed.error), 'invalid context-graph configuration');
  }
  const e = parsed.data;
  return {
    port: e.CONTEXT_GRAPH_PORT ?? e.PORT ?? 3300,
    host: e.BATON_HTTP_HOST,
    neo4j: { uri: e.NEO4J_URI, user: e.NEO4J_USER, password: e.NEO4J_PASSWORD },
    namespace: e.CONTEXT_GRAPH_NAMESPACE ?? e.BATON_TOPIC_PREFIX,
    kafkaBrokers: e.KAFKA_BROKERS,
    databaseUrl: e.DATABASE_URL,
    topicPrefix: e.BATON_TOPIC_PREFIX,
    apiKeys: e.BATON_API_KEYS,
    apiKeyScopes: new Map(e.CONTEXT_API_KEY_SCOPES.map(({ key, scopes }) => [key, scopes])),
    entityKinds: new Set([...BUILT_IN_ENTITY_KINDS, ...e.CONTEXT_ENTITY_KINDS]),
    relationshipTypes: new Set([...BUILT_IN_RELATIONSHIP_TYPES, ...e.CONTEXT_RELATIONSHIP_TYPES]),
    batchMax: e.CONTEXT_BATCH_MAX,
    writesInFlight: e.CONTEXT_WRITES_IN_FLIGHT,
    pushPollMs: e.CONTEXT_PUSH_POLL_MS,
    testCrashAt: e.CONTEXT_TEST_CRASH_AT,
    logLevel: e.BATON_LOG_LEVEL,
  };
}

export const CONTEXT_GRAPH_CONFIG = Symbol('CONTEXT_GRAPH_CONFIG');
