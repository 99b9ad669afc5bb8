import { z } from 'zod';
import { identifierSchema, jsonValueSchema } from '../common';

/**
 * A workflow definition as carried in requests. This first cut knows the
 * sequential pattern: each step's output is the next step's input.
 */
export const stepDefinitionSchema = z
  .object({
    id: identifierSchema,
    capability: identifierSchema,
    /** Static parameters merged into the step's input. */
    params: z.record(z.string(), jsonValueSchema).optional(),
    timeoutMs: z.number().int().positive().max(86_400_000).optional(),
  })
  .strict();

export const workflowDefinitionSchema = z
  .object({
    name: identifierSchema,
    pattern: z.literal('sequential'),
    steps: z.array(stepDefinitionSchema).min(1).max(500),
  })
  .strict()
  .superRefine((definition, ctx) => {
    const seen = new Set<string>();
    definition.steps.forEach((step, index) => {
      if (seen.has(step.id)) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'id'], message: `duplicate step id "${step.id}"` });
      }
      seen.add(step.id);
    });
  });

export type StepDefinition = z.infer<typeof stepDefinitionSchema>;
export type WorkflowDefinition = z.infer<typeof workflowDefinitionSchema>;
