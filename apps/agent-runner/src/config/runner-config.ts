import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { ContractValidationError, describeIssues } from '@baton/contracts';
import { LlmGateway, builtinGatewayConfig, loadGatewayConfigFile, type GatewayConfig } from '@baton/llm-gateway';
import { loadAgentDefinitions, type AgentDefinition } from '../agents/agent-definition';

/** The definitions shipped with the runner (the built-in agents on the deterministic model). */
export const SHIPPED_AGENTS_DIR = join(__dirname, '..', 'agents', 'definitions');

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const runnerEnvironmentSchema = z.object({
  RUNNER_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** The platform convention (PaaS, spawned processes); RUNNER_PORT wins when both are set. */
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BATON_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, 'must be host:port')).min(1)),
  BATON_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(''),
  RUNNER_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/)
    .optional(),
  RUNNER_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().positive().default(5_000),
  BATON_LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  /** Folder of agent definition files (YAML or JSON); defaults to the built-in agents shipped with the runner. */
  RUNNER_AGENTS_DIR: z.string().min(1).optional(),
  /** Gateway configuration file (YAML or JSON); without it only the built-in model is available. */
  BATON_GATEWAY_CONFIG: z.string().min(1).optional(),
  /**
   * Postgres holding the shared claim-check table (baton_claims). Optional: without it the runner
   * handles only messages under the claim threshold (bigger tasks are dead-lettered with the reason,
   * bigger results fail to publish, naming their size).
   */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  BATON_CLAIM_THRESHOLD_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(262_144),
  /** Grace period for in-flight tasks on shutdown. */
  RUNNER_DRAIN_TIMEOUT_MS: z.coerce.number().int().nonnegative().default(30_000),
  /** How long ask_human waits for an answer (never past the task's own deadline). */
  RUNNER_ASK_HUMAN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  /** Context attached at dispatch: neighbourhood depth, bounds, and how long the context graph may take. */
  RUNNER_CONTEXT_HOPS: z.coerce.number().int().min(1).max(4).default(2),
  /** 0 turns context injection off. */
  RUNNER_CONTEXT_MAX_FACTS: z.coerce.number().int().min(0).max(200).default(20),
  RUNNER_CONTEXT_MAX_BYTES: z.coerce.number().int().min(256).max(1_000_000).default(8_192),
  RUNNER_CONTEXT_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(2_000),
});

export interface RunnerConfig {
  port: number;
  host: string;
  kafkaBrokers: string[];
  topicPrefix: string;
  instanceId: string;
  heartbeatIntervalMs: number;
  logLevel: 'debug' | 'log' | 'warn' | 'error';
  agentsDir: string;
  agents: AgentDefinition[];
  gateway: GatewayConfig;
  databaseUrl: string | undefined;
  claimThresholdBytes: number;
  drainTimeoutMs: number;
  askHumanTimeoutMs: number;
  context: ContextInjectionConfig;
}

export interface ContextInjectionConfig {
  hops: number;
  maxFacts: number;
  maxBytes: number;
  timeoutMs: number;
}

export function loadRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const parsed = runnerEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ContractValidationError(describeIssues(parsed.error), 'invalid agent-runner configuration');
  }
  const e = parsed.data;
  const agentsDir = e.RUNNER_AGENTS_DIR ?? SHIPPED_AGENTS_DIR;
  const gateway = e.BATON_GATEWAY_CONFIG ? loadGatewayConfigFile(e.BATON_GATEWAY_CONFIG, env) : builtinGatewayConfig();
  const agents = loadAgentDefinitions(agentsDir);
  const models = new LlmGateway(gateway);
  const unknownModels = agents
    .filter((agent) => !models.has(agent.model))
    .map((agent) => `agent ${agent.id}: model: "${agent.model}" is not an alias of the gateway configuration`);
  if (unknownModels.length > 0) throw new ContractValidationError(unknownModels, 'invalid agent-runner configuration');
  return {
    port: e.RUNNER_PORT ?? e.PORT ?? 3200,
    host: e.BATON_HTTP_HOST,
    kafkaBrokers: e.KAFKA_BROKERS,
    topicPrefix: e.BATON_TOPIC_PREFIX,
    instanceId: e.RUNNER_INSTANCE_ID ?? `runner-${randomUUID().slice(0, 8)}`,
    heartbeatIntervalMs: e.RUNNER_HEARTBEAT_INTERVAL_MS,
    logLevel: e.BATON_LOG_LEVEL,
    agentsDir,
    agents,
    gateway,
    databaseUrl: e.DATABASE_URL,
    claimThresholdBytes: e.BATON_CLAIM_THRESHOLD_BYTES,
    drainTimeoutMs: e.RUNNER_DRAIN_TIMEOUT_MS,
    askHumanTimeoutMs: e.RUNNER_ASK_HUMAN_TIMEOUT_MS,
    context: {
      hops: e.RUNNER_CONTEXT_HOPS,
      maxFacts: e.RUNNER_CONTEXT_MAX_FACTS,
      maxBytes: e.RUNNER_CONTEXT_MAX_BYTES,
      timeoutMs: e.RUNNER_CONTEXT_TIMEOUT_MS,
    },
  };
}

export const RUNNER_CONFIG = Symbol('RUNNER_CONFIG');
