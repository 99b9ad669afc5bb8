import { z } from 'zod';
import {
  ContractValidationError,
  describeIssues,
  identifierSchema,
  jsonValueSchema,
  storableStringSchema,
  workflowDefinitionSchema,
} from '@baton/contracts';
import type { JsonValue, WorkflowDefinition } from '@baton/contracts';

export const startWorkflowRequestSchema = z
  .object({
    /** An inline definition; or `definitionName` of a registered one. */
    definition: workflowDefinitionSchema.optional(),
    definitionName: identifierSchema.optional(),
    input: jsonValueSchema.default({}),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.definition === undefined) === (body.definitionName === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['definition'], message: 'exactly one of definition or definitionName is required' });
    }
  });

/** A validated `POST /workflows` body; it cannot be constructed from invalid input. */
export class StartWorkflowRequest {
  private constructor(
    readonly source: { definition: WorkflowDefinition } | { definitionName: string },
    readonly input: JsonValue,
  ) {}

  static parse(body: unknown): StartWorkflowRequest {
    const parsed = startWorkflowRequestSchema.safeParse(body ?? undefined);
    if (!parsed.success) {
      throw new ContractValidationError(describeIssues(parsed.error), 'invalid workflow request');
    }
    const { definition, definitionName, input } = parsed.data;
    return new StartWorkflowRequest(definition ? { definition } : { definitionName: definitionName ?? '' }, input);
  }
}

/** The reason is kept in the workflow's error (jsonb). */
export const cancelWorkflowRequestSchema = z
  .object({ reason: storableStringSchema.min(1).max(500).default('cancelled by request') })
  .strict();
