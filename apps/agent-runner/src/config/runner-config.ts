import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ContractValidationError, describeIssues } from '@baton/contracts';

const csv = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));

const runnerEnvironmentSchema = z.object({
  RUNNER_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** The platform convention (PaaS, spawned processes); RUNNER_PORT wins when both are set. */
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BATON_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  KAFKA_BROKERS: csv.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, 'must be host:port')).min(1)),
  BATON_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/).default(''),
  RUNNER_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/).optional(),
  RUNNER_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().positive().default(5_000),
  BATON_LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
});

export interface RunnerConfig {
  port: number;
  host: string;
  kafkaBrokers: string[];
  topicPrefix: string;
  instanceId: string;
  heartbeatIntervalMs: number;
  logLevel: 'debug' | 'log' | 'warn' | 'error';
}

export function loadRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const parsed = runnerEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ContractValidationError(describeIssues(parsed.error), 'invalid agent-runner configuration');
  }
  const e = parsed.data;
  return {
    port: e.RUNNER_PORT ?? e.PORT ?? 3200,
    host: e.BATON_HTTP_HOST,
    kafkaBrokers: e.KAFKA_BROKERS,
    topicPrefix: e.BATON_TOPIC_PREFIX,
    instanceId: e.RUNNER_INSTANCE_ID ?? `runner-${randomUUID().slice(0, 8)}`,
    heartbeatIntervalMs: e.RUNNER_HEARTBEAT_INTERVAL_MS,
    logLevel: e.BATON_LOG_LEVEL,
  };
}

export const RUNNER_CONFIG = Symbol('RUNNER_CONFIG');
