import { z } from 'zod';
import { errorInfoSchema, jsonValueSchema } from '@baton/contracts';
import { STEP_STATUSES } from '../persistence/workflow-step.entity';
import { fromStoredJson } from '../persistence/stored-json';
import { WORKFLOW_STATUSES, type WorkflowEntity } from '../persistence/workflow.entity';

/** The HTTP shape of a workflow: stable for clients whatever the tables look like; documented in OpenAPI. */
export const workflowViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  status: z.enum(WORKFLOW_STATUSES),
  input: jsonValueSchema,
  output: jsonValueSchema.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  steps: z.array(
    z.object({
      id: z.string(),
      capability: z.string(),
      status: z.enum(STEP_STATUSES),
      attempt: z.number().int(),
      agentId: z.string().nullable(),
      waitReason: z.string().nullable().describe('why no agent could take the step (status waiting_for_agent)'),
      output: jsonValueSchema.nullable(),
      confidence: z.number().nullable(),
      error: errorInfoSchema.nullable(),
      dispatchedAt: z.iso.datetime().nullable(),
      completedAt: z.iso.datetime().nullable(),
    }),
  ),
});

export type WorkflowView = z.infer<typeof workflowViewSchema>;

export function toWorkflowView(workflow: WorkflowEntity): WorkflowView {
  return {
    id: workflow.id,
    name: workflow.name,
    status: workflow.status,
    input: fromStoredJson(workflow.input),
    output: workflow.output === null ? null : fromStoredJson(workflow.output),
    error: workflow.error,
    createdAt: workflow.createdAt.toISOString(),
    updatedAt: workflow.updatedAt.toISOString(),
    steps: (workflow.steps ?? []).map((step) => ({
      id: step.stepId,
      capability: step.capability,
      status: step.status,
      attempt: step.attempt,
      agentId: step.agentId,
      waitReason: step.waitReason,
      output: step.output === null ? null : fromStoredJson(step.output),
      confidence: step.confidence,
      error: step.error,
      dispatchedAt: step.dispatchedAt?.toISOString() ?? null,
      completedAt: step.completedAt?.toISOString() ?? null,
    })),
  };
}
