import { z } from 'zod';
import { ContractValidationError, describeIssues, jsonValueSchema, workflowDefinitionSchema } from '@baton/contracts';
import type { JsonValue, WorkflowDefinition } from '@baton/contracts';

export const startWorkflowRequestSchema = z
  .object({
    definition: workflowDefinitionSchema,
    input: jsonValueSchema.default({}),
  })
  .strict();

/** A validated `POST /workflows` body; it cannot be constructed from invalid input. */
export class StartWorkflowRequest {
  private constructor(
    readonly definition: WorkflowDefinition,
    readonly input: JsonValue,
  ) {}

  static parse(body: unknown): StartWorkflowRequest {
    const parsed = startWorkflowRequestSchema.safeParse(body ?? undefined);
    if (!parsed.success) {
      throw new ContractValidationError(describeIssues(parsed.error), 'invalid workflow request');
    }
    return new StartWorkflowRequest(parsed.data.definition, parsed.data.input);
  }
}
