import { z } from 'zod';
import { workflowDefinitionSchema } from '@baton/contracts';
import { DEFINITION_SOURCES, type WorkflowDefinitionEntity } from '../persistence/workflow-definition.entity';

export const definitionViewSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  source: z.enum(DEFINITION_SOURCES),
  definition: workflowDefinitionSchema,
  updatedAt: z.iso.datetime(),
  /** POST /definitions only: what is accepted now but would be rejected at submission (e.g. capabilities no agent announced yet). */
  warnings: z.array(z.string()).optional(),
});

export type DefinitionView = z.infer<typeof definitionViewSchema>;

export function toDefinitionView(entity: WorkflowDefinitionEntity): DefinitionView {
  return {
    name: entity.name,
    version: entity.version,
    source: entity.source,
    definition: entity.definition,
    updatedAt: entity.updatedAt.toISOString(),
  };
}
