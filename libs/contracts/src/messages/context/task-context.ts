import { z } from 'zod';
import { entityRefSchema, scopeSchema, type EntityRef } from './context-messages';

/**
 * The convention by which a task says what it is about: its input carries `entities: [{ kind, id }]` and
 * optionally `contextScopes: string[]` (the scopes its agent may read; absent: unscoped facts only).
 * Inputs without it are simply not about anything; malformed entries are ignored, never fatal to the workflow.
 * Shared because the context-graph (push to in-flight tasks) and the runner (context at dispatch) must agree.
 */
const taskContextSchema = z.object({
  entities: z.array(z.unknown()).max(50),
  contextScopes: z.array(scopeSchema).max(64).optional(),
});

export interface TaskContext {
  entities: EntityRef[];
  scopes: string[];
}

/**
 * The router hands a step its value as `{ input, params? }` (the step's mapped input beside its static
 * params), so the convention is read there as well as at the top level, where a task published directly
 * carries it.
 */
export function taskContextOf(input: unknown): TaskContext | undefined {
  return contextAt(input) ?? (isStepInput(input) ? contextAt(input.input) : undefined);
}

function isStepInput(value: unknown): value is { input: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'input' in value;
}

function contextAt(input: unknown): TaskContext | undefined {
  const parsed = taskContextSchema.safeParse(input);
  if (!parsed.success) return undefined;
  const seen = new Set<string>();
  const entities = parsed.data.entities.flatMap((entity) => {
    const ref = entityRefSchema.safeParse(entity);
    if (!ref.success) return [];
    const key = `${ref.data.kind}|${ref.data.id}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [ref.data];
  });
  if (entities.length === 0) return undefined;
  return { entities, scopes: parsed.data.contextScopes ?? [] };
}
