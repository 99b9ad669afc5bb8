import type { EnvelopeMeta } from '@baton/contracts';
import type { AgentDefinition } from '../agents/agent-definition';
import type { AssignedTask } from './agent-executor';

/** Envelope metadata of what an agent sends while working on a task: its workflow and step, the agent and its team. */
export function agentTaskMeta(source: string, agent: AgentDefinition, task: AssignedTask, id?: string): EnvelopeMeta {
  return {
    ...(id !== undefined ? { id } : {}),
    source,
    correlationId: task.workflowId,
    workflowId: task.workflowId,
    stepId: task.stepId,
    agentId: agent.id,
    team: agent.team,
  };
}
