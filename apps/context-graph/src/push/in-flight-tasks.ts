import { z } from 'zod';
import { entityRefSchema, scopeSchema } from '@baton/contracts';

/**
 * The convention by which a task says what it is about: its input carries `entities: [{ kind, id }]` and
 * optionally `contextScopes: string[]` (the scopes its agent may read; absent: unscoped facts only).
 * Inputs without it are simply not tracked; malformed entries are ignored, never fatal to the workflow.
 */
const taskContextSchema = z.object({
  entities: z.array(z.unknown()).max(50),
  contextScopes: z.array(scopeSchema).max(64).optional(),
});

export interface TaskContext {
  entities: { kind: string; id: string }[];
  scopes: string[];
}

export function taskContextOf(input: unknown): TaskContext | undefined {
  const parsed = taskContextSchema.safeParse(input);
  if (!parsed.success) return undefined;
  const entities = parsed.data.entities.flatMap((entity) => {
    const ref = entityRefSchema.safeParse(entity);
    return ref.success ? [ref.data] : [];
  });
  if (entities.length === 0) return undefined;
  return { entities, scopes: parsed.data.contextScopes ?? [] };
}
