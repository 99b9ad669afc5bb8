import { ContractValidationError } from '@baton/contracts';
import { HEADERS } from './message-headers';

export interface DeadLetterSource {
  /** The physical (prefixed) topic the message was read from. */
  topic: string;
  partition: number;
  offset: string;
  headers: Readonly<Record<string, string>>;
}

/**
 * The reason recorded with a dead letter. Validation errors already name every
 * offending field (`payload.workflowId: required`); other errors give their name.
 */
export function deadLetterReason(error: Error): string {
  if (error instanceof ContractValidationError) return error.message;
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}

/**
 * The correlation id of a message that failed validation, when its JSON still
 * has one, so the dead-letter log line can be tied to its workflow.
 */
export function peekCorrelationId(raw: Buffer | null): string | undefined {
  if (raw === null) return undefined;
  try {
    const json: unknown = JSON.parse(raw.toString('utf8'));
    const id = typeof json === 'object' && json !== null ? (json as { correlationId?: unknown }).correlationId : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Original headers plus the `baton-dlq-*` ones an operator needs to find and replay the source. */
export function buildDeadLetterHeaders(source: DeadLetterSource, reason: string, attempts: number, failedAt: Date): Record<string, string> {
  return {
    ...source.headers,
    [HEADERS.dlqReason]: reason,
    [HEADERS.dlqSourceTopic]: source.topic,
    [HEADERS.dlqSourcePartition]: String(source.partition),
    [HEADERS.dlqSourceOffset]: source.offset,
    [HEADERS.dlqAttempts]: String(attempts),
    [HEADERS.dlqFailedAt]: failedAt.toISOString(),
  };
}
