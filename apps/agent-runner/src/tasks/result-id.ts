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

/**
 * The id of the effect of a task attempt's `ordinal`-th tool call (a fact, a
 * proposal, a delegated workflow, a question): a redelivered task, or the copy
 * the router gives another agent when one stops heartbeating (same task id and
 * attempt), repeats its calls under the same ids, and their consumers keep
 * each effect once.
 */
export function toolEffectId(taskId: string, attempt: number, ordinal: number, tool: string): string {
  return derivedId(`tool-effect:${taskId}:${attempt}:${ordinal}:${tool}`);
}

function derivedId(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x50, 6); // version 5 (name-based)
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8); // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
