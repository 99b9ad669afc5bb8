import { createHash } from 'node:crypto';

/**
 * The envelope id of a task's result, derived from the task id. A runner that
 * crashes after publishing and executes the redelivered task again publishes
 * the same id, and the router's inbox drops the duplicate.
 */
export function resultEnvelopeId(taskId: string): string {
  return derivedId(`task-result:${taskId}`);
}

/** The envelope id of a task attempt's usage report, so a re-executed attempt is not counted twice. */
export function usageEnvelopeId(taskId: string, attempt: number): string {
  return derivedId(`task-usage:${taskId}:${attempt}`);
}

function derivedId(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x50, 6); // version 5 (name-based)
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8); // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
