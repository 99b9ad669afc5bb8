import type { ErrorInfo, JsonValue } from '@baton/contracts';
import type { StepStatus } from '../persistence/workflow-step.entity';
import type { WorkflowEntity, WorkflowStatus } from '../persistence/workflow.entity';

/** The HTTP shape of a workflow: stable for clients whatever the tables look like. */
export interface WorkflowView {
  id: string;
  name: string;
  status: WorkflowStatus;
  input: JsonValue;
  output: JsonValue | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
  steps: Array<{
    id: string;
    capability: string;
    status: StepStatus;
    attempt: number;
    agentId: string | null;
    output: JsonValue | null;
    confidence: number | null;
    error: ErrorInfo | null;
    dispatchedAt: string | null;
    completedAt: string | null;
  }>;
}

export function toWorkflowView(workflow: WorkflowEntity): WorkflowView {
  return {
    id: workflow.id,
    name: workflow.name,
    status: workflow.status,
    input: workflow.input,
    output: workflow.output,
    error: workflow.error,
    createdAt: workflow.createdAt.toISOString(),
    updatedAt: workflow.updatedAt.toISOString(),
    steps: (workflow.steps ?? []).map((step) => ({
      id: step.stepId,
      capability: step.capability,
      status: step.status,
      attempt: step.attempt,
      agentId: step.agentId,
      output: step.output,
      confidence: step.confidence,
      error: step.error,
      dispatchedAt: step.dispatchedAt?.toISOString() ?? null,
      completedAt: step.completedAt?.toISOString() ?? null,
    })),
  };
}
