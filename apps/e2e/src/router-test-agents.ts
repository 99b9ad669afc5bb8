/**
 * Controllable agents for router end-to-end tests, independent of the
 * agent-runner: one consumer-group member on baton.tasks.assigned that answers
 * by capability (echo, slow, flaky, broken, hang, opinion, supervise,
 * reconcile) and records what it was asked, including cancellations.
 */
import { KafkaBus, type Subscription } from '@baton/bus';
import {
  agentHeartbeat,
  TASK_ASSIGNED,
  TASK_CANCEL_REQUESTED,
  TOPICS,
  createEnvelope,
  taskCompleted,
  taskFailed,
  type taskAssigned,
  type taskCancelRequested,
  type Envelope,
  type JsonValue,
  type PayloadOf,
} from '@baton/contracts';

type Assigned = PayloadOf<typeof taskAssigned>;
type CancelRequested = PayloadOf<typeof taskCancelRequested>;

const USAGE = { model: 'test-agent', inputTokens: 1, outputTokens: 1, costUsd: 0 };

export interface TestAgentSpec {
  agentId: string;
  team?: string;
  capabilities?: string[];
  scopes?: string[];
  maxConcurrency?: number;
}

export const ALL_CAPABILITIES = ['echo', 'slow', 'opinion', 'flaky', 'broken', 'hang', 'reconcile', 'supervise'];

export interface TestAgentsOptions {
  brokers: string[];
  topicPrefix: string;
  /** The logical agents this process hosts and heartbeats; default one agent with every capability. */
  agents?: TestAgentSpec[];
  heartbeatIntervalMs?: number;
}

type Json = { [key: string]: JsonValue };

export class TestAgents {
  readonly assigned: Assigned[] = [];
  /** Envelope ids of the task.assigned messages received, in order (redeliveries included). */
  readonly assignedIds: string[] = [];
  readonly cancelled: CancelRequested[] = [];
  private bus: KafkaBus;
  private subscription: Subscription | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly agents: TestAgentSpec[];
  private readonly silenced = new Set<string>();
  private readonly inFlight = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly options: TestAgentsOptions) {
    this.agents = options.agents ?? [{ agentId: 'test-agent-1', capabilities: ALL_CAPABILITIES, maxConcurrency: 1000 }];
    this.bus = new KafkaBus({ brokers: options.brokers, clientId: 'e2e-test-agents', topicPrefix: options.topicPrefix });
  }

  async start(): Promise<void> {
    await this.bus.connect();
    await this.bus.ensureTopics([TOPICS.tasksAssigned, TOPICS.tasksResults, TOPICS.agentHeartbeats]);
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), this.options.heartbeatIntervalMs ?? 500);
    this.subscription = await this.bus.subscribe({
      groupId: 'e2e-test-agents',
      topics: [TOPICS.tasksAssigned],
      partitionsConsumedConcurrently: 4,
      handler: async ({ envelope }) => {
        if (envelope.type === TASK_ASSIGNED) this.onAssigned(envelope as Envelope<Assigned>);
        if (envelope.type === TASK_CANCEL_REQUESTED) this.cancelled.push((envelope as Envelope<CancelRequested>).payload);
      },
    });
  }

  /** The agent stops heartbeating and answering, as if its process died. */
  silence(agentId: string): void {
    this.silenced.add(agentId);
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const timer of this.timers) clearTimeout(timer);
    await this.subscription?.close();
    await this.bus.disconnect();
  }

  attemptsOf(workflowId: string, stepId: string): Assigned[] {
    return this.assigned.filter((task) => task.workflowId === workflowId && task.stepId === stepId);
  }

  private onAssigned(envelope: Envelope<Assigned>): void {
    const task = envelope.payload;
    this.assigned.push(task);
    this.assignedIds.push(envelope.id);
    if (task.agentId !== undefined && (this.silenced.has(task.agentId) || !this.agents.some((a) => a.agentId === task.agentId))) return;
    this.inFlight.set(task.agentId ?? '', (this.inFlight.get(task.agentId ?? '') ?? 0) + 1);
    const input = (task.input ?? {}) as Json;
    const params = (input['params'] ?? {}) as Json;
    switch (task.capability) {
      case 'echo':
        return this.later(envelope, 0, () =>
          this.complete(envelope, { capability: task.capability, stepId: task.stepId, input: task.input }),
        );
      case 'slow':
        return this.later(envelope, Number(params['delayMs'] ?? 1500), () =>
          this.complete(envelope, { capability: 'slow', stepId: task.stepId, input: task.input }),
        );
      case 'opinion':
        return this.later(envelope, Number(params['delayMs'] ?? 0), () => this.complete(envelope, { verdict: params['verdict'] ?? null }));
      case 'flaky':
        return this.later(envelope, 0, () =>
          task.attempt < Number(params['succeedOnAttempt'] ?? 2)
            ? this.fail(envelope, { code: 'flaky', message: `attempt ${task.attempt} fails`, retryable: true })
            : this.complete(envelope, { attempt: task.attempt }),
        );
      case 'broken':
        return this.later(envelope, 0, () => this.fail(envelope, { code: 'broken', message: 'this agent always fails', retryable: false }));
      case 'hang':
        return;
      case 'reconcile': {
        const branches = ((input['input'] ?? {}) as Json)['branches'] as Json;
        return this.later(envelope, 0, () => this.complete(envelope, { reconciled: Object.keys(branches ?? {}).sort() }));
      }
      case 'supervise':
        return this.later(envelope, 0, () => this.complete(envelope, supervise(input)));
      default:
        return this.later(envelope, 0, () =>
          this.fail(envelope, { code: 'unknown_capability', message: `no test agent for ${task.capability}`, retryable: false }),
        );
    }
  }

  private async beat(): Promise<void> {
    for (const agent of this.agents) {
      if (this.silenced.has(agent.agentId)) continue;
      const payload = {
        agentId: agent.agentId,
        instanceId: 'e2e-test-agents',
        team: agent.team ?? 'test',
        capabilities: agent.capabilities ?? ALL_CAPABILITIES,
        scopes: agent.scopes ?? [],
        models: ['test-model'],
        maxConcurrency: agent.maxConcurrency ?? 100,
        inFlight: this.inFlight.get(agent.agentId) ?? 0,
        startedAt: this.startedAt,
      };
      await this.bus.publish(
        agentHeartbeat,
        createEnvelope(agentHeartbeat, payload, {
          source: 'e2e-test-agents',
          correlationId: `heartbeat:${agent.agentId}`,
          agentId: agent.agentId,
        }),
      );
    }
  }

  private later(envelope: Envelope<Assigned>, delayMs: number, act: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const agentId = envelope.payload.agentId ?? '';
      this.inFlight.set(agentId, Math.max(0, (this.inFlight.get(agentId) ?? 1) - 1));
      if (this.silenced.has(agentId)) return;
      // A cancellation names the agent it is for: a reassigned task keeps its id on the new agent.
      const cancelled = this.cancelled.some(
        (c) => c.taskId === envelope.payload.taskId && (c.agentId === undefined || c.agentId === envelope.payload.agentId),
      );
      if (!cancelled) void act().catch(() => undefined);
    }, delayMs);
    this.timers.add(timer);
  }

  private async complete(envelope: Envelope<Assigned>, output: JsonValue): Promise<void> {
    const { taskId, workflowId, stepId, attempt } = envelope.payload;
    await this.bus.publish(
      taskCompleted,
      createEnvelope(
        taskCompleted,
        { taskId, workflowId, stepId, attempt, agentId: envelope.payload.agentId ?? 'unassigned', output, confidence: 0.9, usage: USAGE },
        // The result id derives from the task id so a redelivered task yields a duplicate the router dedupes.
        {
          source: 'e2e-test-agents',
          correlationId: envelope.correlationId,
          causationId: envelope.id,
          workflowId,
          stepId,
          id: envelope.payload.taskId,
        },
      ),
    );
  }

  private async fail(envelope: Envelope<Assigned>, error: { code: string; message: string; retryable: boolean }): Promise<void> {
    const { taskId, workflowId, stepId, attempt } = envelope.payload;
    await this.bus.publish(
      taskFailed,
      createEnvelope(
        taskFailed,
        { taskId, workflowId, stepId, attempt, agentId: envelope.payload.agentId ?? 'unassigned', error },
        { source: 'e2e-test-agents', correlationId: envelope.correlationId, causationId: envelope.id, workflowId, stepId, id: taskId },
      ),
    );
  }
}

/**
 * The supervisor protocol, scripted by the workflow input: `plan` is the first
 * plan, `rework` how many review rounds ask for one more subtask.
 */
function supervise(input: Json): JsonValue {
  const task = (input['task'] ?? {}) as Json;
  if (input['phase'] === 'plan') return { subtasks: (task['plan'] ?? []) as JsonValue };
  const round = Number(input['round']);
  if (round <= Number(task['rework'] ?? 0)) {
    return { decision: 'rework', subtasks: [{ id: `fix${round}`, capability: 'echo', input: { fixing: round } }] };
  }
  return { decision: 'accept', answer: { rounds: round, results: Object.keys((input['results'] ?? {}) as Json).sort() } };
}
