/**
 * Rebuilds workflow state from baton.workflow.events alone: what a replay or
 * any other service can know without the router's database. Duplicated
 * records (the outbox publishes at least once) are dropped by envelope id.
 */
import { parseEnvelope, TOPICS, type JsonValue } from '@baton/contracts';

export interface ProjectedStep {
  status: string;
  attempt: number;
  output: JsonValue | null;
  agentId: string | null;
}

export interface ProjectedWorkflow {
  status: string;
  output: JsonValue | null;
  error: { code: string } | null;
  steps: Record<string, ProjectedStep>;
}

type Payload = Record<string, unknown>;

export function projectWorkflows(values: readonly Buffer[]): Map<string, ProjectedWorkflow> {
  const seen = new Set<string>();
  const workflows = new Map<string, ProjectedWorkflow>();
  for (const value of values) {
    const { envelope } = parseEnvelope(TOPICS.workflowEvents, value);
    if (seen.has(envelope.id)) continue;
    seen.add(envelope.id);
    apply(workflows, envelope.type, envelope.payload as Payload);
  }
  return workflows;
}

function apply(workflows: Map<string, ProjectedWorkflow>, type: string, p: Payload): void {
  const workflowId = String(p['workflowId']);
  if (type === 'workflow.started') {
    workflows.set(workflowId, { status: 'running', output: null, error: null, steps: {} });
    return;
  }
  const workflow = workflows.get(workflowId);
  if (!workflow) throw new Error(`${type} for ${workflowId} before workflow.started`);
  const stepId = typeof p['stepId'] === 'string' ? p['stepId'] : undefined;
  const step = (): ProjectedStep => {
    if (stepId === undefined) throw new Error(`${type} without a stepId`);
    workflow.steps[stepId] ??= { status: 'pending', attempt: 0, output: null, agentId: null };
    return workflow.steps[stepId];
  };
  switch (type) {
    case 'workflow.step.waiting_for_agent':
      Object.assign(step(), { status: 'waiting_for_agent', attempt: Number(p['attempt']), agentId: null });
      return;
    case 'workflow.step.dispatched':
      Object.assign(step(), { status: 'dispatched', attempt: Number(p['attempt']), agentId: (p['agentId'] as string | undefined) ?? null });
      return;
    case 'workflow.step.reassigned':
      return;
    case 'workflow.step.completed':
      Object.assign(step(), { status: 'completed', output: p['output'] as JsonValue, agentId: p['agentId'] as string });
      return;
    case 'workflow.step.failed':
      // Final unless a retry_scheduled follows.
      step().status = 'failed';
      return;
    case 'workflow.step.retry_scheduled':
      step().status = 'retry_wait';
      return;
    case 'workflow.step.cancelled':
      // A timed-out attempt is cancelled at the agent and then fails or retries.
      if (p['reason'] !== 'timed_out') Object.assign(step(), { status: 'cancelled', attempt: Number(p['attempt']) });
      return;
    case 'workflow.completed':
      workflow.status = 'completed';
      workflow.output = p['output'] as JsonValue;
      return;
    case 'workflow.failed':
      workflow.status = 'failed';
      workflow.error = { code: String((p['error'] as Payload)['code']) };
      return;
    case 'workflow.cancelled':
      workflow.status = 'cancelled';
      for (const s of Object.values(workflow.steps)) {
        if (['dispatched', 'retry_wait', 'waiting_for_agent'].includes(s.status)) s.status = 'cancelled';
      }
      return;
    default:
      throw new Error(`unknown workflow event ${type}`);
  }
}
