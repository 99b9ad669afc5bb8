/**
 * The topic catalogue. Names are the wire names; a deployment may prefix them
 * (tests do, for isolation) through the bus configuration, never here.
 */
export const TOPICS = {
  systemEvents: 'baton.system-events',
  workflowRequests: 'baton.workflow.requests',
  workflowEvents: 'baton.workflow.events',
  agentHeartbeats: 'baton.agents.heartbeats',
  tasksAssigned: 'baton.tasks.assigned',
  tasksResults: 'baton.tasks.results',
  contextFacts: 'baton.context.facts',
  contextUpdates: 'baton.context.updates',
  contextQueries: 'baton.context.queries',
  actionsProposed: 'baton.actions.proposed',
  actionsDecided: 'baton.actions.decided',
  approvalsRequests: 'baton.approvals.requests',
  approvalsDecisions: 'baton.approvals.decisions',
  governancePolicies: 'baton.governance.policies',
  governanceUsage: 'baton.governance.usage',
  audit: 'baton.audit',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export const DLQ_SUFFIX = '.dlq';

export function dlqTopic(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

export interface TopicSpec {
  name: TopicName;
  summary: string;
  /** What the Kafka key is, so one partition sees one entity's messages in order. */
  keyedBy: string;
  producers: readonly string[];
  consumers: readonly string[];
  /** `envelope`: Baton's envelope; `cloudevents`: CloudEvents 1.0 Kafka binding (systems we do not own). */
  format: 'envelope' | 'cloudevents';
  compacted: boolean;
  partitions: number;
}

const spec = (
  name: TopicName,
  summary: string,
  keyedBy: string,
  producers: readonly string[],
  consumers: readonly string[],
  extra: Partial<Pick<TopicSpec, 'format' | 'compacted' | 'partitions'>> = {},
): TopicSpec => ({
  name,
  summary,
  keyedBy,
  producers,
  consumers,
  format: extra.format ?? 'envelope',
  compacted: extra.compacted ?? false,
  partitions: extra.partitions ?? 6,
});

export const TOPIC_CATALOGUE: Readonly<Record<TopicName, TopicSpec>> = {
  [TOPICS.systemEvents]: spec(
    TOPICS.systemEvents,
    'Events from systems Baton does not own (deployments, SLA breaches, cost alerts, incidents), as CloudEvents 1.0.',
    'source entity id',
    ['external systems'],
    ['event-triggers', 'context-graph'],
    { format: 'cloudevents' },
  ),
  [TOPICS.workflowRequests]: spec(
    TOPICS.workflowRequests,
    'Requests to start a workflow.',
    'workflow id',
    ['router API', 'CLI', 'event-triggers'],
    ['router'],
  ),
  [TOPICS.workflowEvents]: spec(
    TOPICS.workflowEvents,
    'Every workflow and step transition: the lifecycle log a run can be rebuilt and replayed from.',
    'workflow id',
    ['router'],
    ['everyone'],
  ),
  [TOPICS.agentHeartbeats]: spec(
    TOPICS.agentHeartbeats,
    'Agent instances announcing identity, capabilities and live load.',
    'agent id',
    ['agent-runner'],
    ['router'],
  ),
  [TOPICS.tasksAssigned]: spec(TOPICS.tasksAssigned, 'Step attempts assigned to an agent.', 'agent id', ['router'], ['agent-runner']),
  [TOPICS.tasksResults]: spec(
    TOPICS.tasksResults,
    'Outcomes of step attempts with confidence and usage.',
    'workflow id',
    ['agent-runner'],
    ['router', 'governance'],
  ),
  [TOPICS.contextFacts]: spec(
    TOPICS.contextFacts,
    'Facts about entities recorded by agents and systems.',
    'entity id',
    ['agents', 'systems'],
    ['context-graph'],
  ),
  [TOPICS.contextUpdates]: spec(
    TOPICS.contextUpdates,
    'New facts pushed to in-flight tasks that are about the touched entities.',
    'workflow id',
    ['context-graph'],
    ['agent-runner'],
  ),
  [TOPICS.contextQueries]: spec(
    TOPICS.contextQueries,
    'Queries of the context graph (request/reply: the answer goes to the requester reply topic).',
    'workflow id (or correlation id)',
    ['agents', 'services'],
    ['context-graph'],
  ),
  [TOPICS.actionsProposed]: spec(
    TOPICS.actionsProposed,
    'Actions agents propose on shared resources.',
    'resource id',
    ['agents'],
    ['coordinator'],
  ),
  [TOPICS.actionsDecided]: spec(
    TOPICS.actionsDecided,
    'Decisions on proposed actions and their execution.',
    'resource id',
    ['coordinator', 'approvals'],
    ['router', 'agents'],
  ),
  [TOPICS.approvalsRequests]: spec(
    TOPICS.approvalsRequests,
    'What needs a human: actions to decide, and agent questions (human.question.asked, request/reply: the answer goes to the asker reply topic).',
    'action id / question id',
    ['coordinator', 'agent-runner (ask_human)'],
    ['approvals'],
  ),
  [TOPICS.approvalsDecisions]: spec(
    TOPICS.approvalsDecisions,
    'Human approve / modify / reject decisions, and answers to agent questions (human.question.answered: delivered to the asker by bus.reply; here as the record).',
    'action id / question id',
    ['approvals'],
    ['coordinator', 'governance'],
  ),
  [TOPICS.governancePolicies]: spec(
    TOPICS.governancePolicies,
    'Current version of every policy (compacted: the latest per policy id).',
    'policy id',
    ['governance'],
    ['enforcing services'],
    { compacted: true, partitions: 1 },
  ),
  [TOPICS.governanceUsage]: spec(
    TOPICS.governanceUsage,
    'Cost and token usage reported against workflow budgets.',
    'workflow id',
    ['agent-runner', 'router'],
    ['governance'],
  ),
  [TOPICS.audit]: spec(
    TOPICS.audit,
    'Decisions, context accesses, inter-agent messages and actions for the audit trail.',
    'correlation id',
    ['every service'],
    ['governance'],
  ),
};
