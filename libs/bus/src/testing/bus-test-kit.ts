// Helpers for the bus's integration tests (excluded from the build). Real Kafka only.
import { randomUUID } from 'node:crypto';
import { type Envelope, type PayloadOf, TOPICS, createEnvelope, taskAssigned, taskCompleted } from '@baton/contracts';
import { Kafka, logLevel } from 'kafkajs';
import type { BusLogger, LogFields } from '../core/bus-logger';
import { RawKafka, type RawMessage } from './raw-kafka';

export function uniquePrefix(): string {
  return `t-${randomUUID().slice(0, 8)}.`;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** Keeps log lines in memory so tests can read them (and jest output stays quiet). */
export function capturingLogger(): BusLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const push =
    (level: LogLine['level']) =>
    (message: string, fields: LogFields = {}) => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

export type TaskCompleted = PayloadOf<typeof taskCompleted>;
export type TaskAssigned = PayloadOf<typeof taskAssigned>;

export function taskCompletedEnvelope(overrides: Partial<TaskCompleted> = {}): Envelope<TaskCompleted> {
  const workflowId = overrides.workflowId ?? randomUUID();
  return createEnvelope(
    taskCompleted,
    {
      taskId: randomUUID(),
      workflowId,
      stepId: 'step-1',
      attempt: 1,
      agentId: 'agent-1',
      output: { summary: 'done' },
      confidence: 0.9,
      usage: { model: 'builtin', inputTokens: 10, outputTokens: 5, costUsd: 0 },
      ...overrides,
    },
    { source: 'bus-test', correlationId: workflowId, workflowId },
  );
}

export function taskAssignedEnvelope(): Envelope<TaskAssigned> {
  const workflowId = randomUUID();
  return createEnvelope(
    taskAssigned,
    {
      taskId: randomUUID(),
      workflowId,
      stepId: 'step-1',
      attempt: 1,
      capability: 'summarise',
      input: { text: 'hello' },
      timeoutMs: 10_000,
    },
    { source: 'bus-test', correlationId: workflowId, workflowId },
  );
}

export type RawRecord = RawMessage;

/** Reads a topic from the beginning until `count` records (dead letters may be invalid envelopes). */
export async function readTopic(brokers: string[], topic: string, count: number, timeoutMs = 30_000): Promise<RawRecord[]> {
  return new RawKafka(brokers).readUntil(topic, (messages) => messages.length >= count, timeoutMs);
}

/** The group's committed offset per partition of `topic` ('-1' = nothing committed). */
export async function committedOffsets(brokers: string[], groupId: string, topic: string): Promise<Map<number, string>> {
  const kafka = new Kafka({ clientId: 'bus-test-offsets', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((result?.partitions ?? []).map((partition) => [partition.partition, partition.offset]));
  } finally {
    await admin.disconnect();
  }
}

export { TOPICS };
