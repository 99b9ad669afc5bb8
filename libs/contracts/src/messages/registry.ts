import { agentHeartbeat } from './agent/agent-heartbeat.message';
import { agentToolCalled } from './agent/agent-tool-call.message';
import { actionProposed } from './agent/action-proposed.message';
import { humanQuestionAnswered } from './approvals/human-question-answered.message';
import { humanQuestionAsked } from './approvals/human-question-asked.message';
import { usageRecorded } from './usage/usage-recorded.message';
import type { MessageContract } from './message-contract';
import { contextFactRecorded, contextQueryAnswered, contextQueryRequested, contextUpdated } from './context/context-messages';
import { taskAssigned, taskCancelRequested, taskCompleted, taskFailed } from './task/task-messages';
import {
  stepCompleted,
  stepDispatched,
  stepFailed,
  workflowCompleted,
  workflowFailed,
  workflowStarted,
} from './workflow/workflow-events.messages';
import { workflowRequested, workflowRequestedByName } from './workflow/workflow-requested.message';
import {
  stepCancelled,
  stepReassigned,
  stepRetryScheduled,
  stepWaitingForAgent,
  workflowCancelled,
} from './workflow/workflow-lifecycle.messages';
import type { TopicName } from '../topics/topics';

/** Every message contract Baton knows. A message whose (type, version) is not here is rejected. */
export const MESSAGE_CONTRACTS: readonly MessageContract[] = [
  workflowRequested,
  workflowStarted,
  stepDispatched,
  stepCompleted,
  stepFailed,
  workflowCompleted,
  workflowFailed,
  taskAssigned,
  taskCompleted,
  taskFailed,
  taskCancelRequested,
  agentHeartbeat,
  usageRecorded,
  agentToolCalled,
  actionProposed,
  contextFactRecorded,
  contextQueryRequested,
  contextQueryAnswered,
  contextUpdated,
  workflowCancelled,
  stepCancelled,
  stepRetryScheduled,
  workflowRequestedByName,
  stepWaitingForAgent,
  stepReassigned,
  humanQuestionAsked,
  humanQuestionAnswered,
] as readonly MessageContract[];

const byTypeVersion = new Map<string, MessageContract>();
for (const contract of MESSAGE_CONTRACTS) {
  const id = `${contract.type}@${contract.version}`;
  if (byTypeVersion.has(id)) throw new Error(`duplicate message contract ${id}`);
  byTypeVersion.set(id, contract);
}

export function findContract(type: string, version: number): MessageContract | undefined {
  return byTypeVersion.get(`${type}@${version}`);
}

export function contractsOnTopic(topic: TopicName): MessageContract[] {
  return MESSAGE_CONTRACTS.filter((contract) => contract.topic === topic);
}
