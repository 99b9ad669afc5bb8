import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import {
  createEnvelope,
  taskCompleted,
  taskFailed,
  usageRecorded,
  type Envelope,
  type EnvelopeMeta,
  type PayloadOf,
  type taskCancelRequested,
} from '@baton/contracts';
import type { AgentDefinition } from '../agents/agent-definition';
import { RUNNER_CONFIG, type RunnerConfig } from '../config/runner-config';
import { PeerAgentsService } from '../heartbeats/peer-agents.service';
import { AgentExecutor, type AssignedTask, type ExecutionOutcome } from './agent-executor';
import { AgentSlots } from './agent-slots';
import { resultEnvelopeId, usageEnvelopeId } from './result-id';
import { AGENT_EXECUTOR } from './tokens';
import { recordModelUsage } from './usage-metrics';

type Rejection = { code: 'unknown_agent' | 'capability_not_hosted' | 'no_agent_for_capability'; message: string };
type NotOurs = { notOurs: string };

/** Abort reason when an attempt outlives its `timeoutMs`: reported, unlike a requested cancellation. */
const TIMED_OUT = 'task_timed_out';

/** Remembered cancellations of attempts not seen yet (bounded: old ones age out). */
const MAX_REMEMBERED_CANCELLATIONS = 10_000;

/**
 * Executes assigned tasks on the hosted agents and publishes their results.
 *
 * A task is taken off the partition as soon as a slot of its agent is free and
 * then runs detached, so one agent's tasks (one Kafka key, one partition) can
 * run up to its maxConcurrency at once and a `task.cancel_requested` behind it
 * on the same partition is seen while it runs. The price: a runner that
 * crashes mid-task has already committed it, and the router's attempt timeout
 * (`timeoutMs`) retries it. A graceful shutdown drains running tasks first.
 */
@Injectable()
export class TasksService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(TasksService.name);
  private readonly agents: ReadonlyMap<string, AgentDefinition>;
  private readonly slots = new Map<string, AgentSlots>();
  /** Running attempts by attempt key, with the agent each was given to. */
  private readonly running = new Map<string, { controller: AbortController; agentId: string }>();
  /** Cancellations of attempts not seen yet, by cancellation key (attempt and, when named, agent). */
  private readonly cancelled = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  /** Set when a shutdown drain ran out of time: nothing starts any more. */
  private abandoning = false;
  private readonly source: string;
  private readonly stats = { completed: 0, failed: 0, cancelled: 0, modelTimeMs: 0 };
  /** The runner's own time per finished task (slot taken -> outcome published, model time excluded); bounded. */
  private readonly overheadSamples: number[] = [];
  /** The same without publishing: the runner's own work on the task (agent, prompt, gateway, validation). */
  private readonly workSamples: number[] = [];

  constructor(
    private readonly bus: KafkaBus,
    @Inject(RUNNER_CONFIG) private readonly config: RunnerConfig,
    @Inject(AGENT_EXECUTOR) private readonly executor: AgentExecutor,
    private readonly peers: PeerAgentsService,
  ) {
    this.agents = new Map(config.agents.map((agent) => [agent.id, agent]));
    for (const agent of config.agents) this.slots.set(agent.id, new AgentSlots(agent.maxConcurrency));
    this.source = `agent-runner/${config.instanceId}`;
  }

  get hostedAgents(): AgentDefinition[] {
    return [...this.agents.values()];
  }

  inFlightFor(agentId: string): number {
    return this.slots.get(agentId)?.inUse ?? 0;
  }

  /** Counters since start and the runner's own overhead per task, for the benchmark and the logs. */
  statistics(): Record<string, number> {
    const round = (value: number): number => Math.round(value * 1000) / 1000;
    const summary = (samples: number[], name: string): Record<string, number> => {
      const sorted = [...samples].sort((a, b) => a - b);
      const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      const mean = sorted.length === 0 ? 0 : sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
      return { [`${name}MeanMs`]: round(mean), [`${name}P50Ms`]: round(at(0.5)), [`${name}P99Ms`]: round(at(0.99)) };
    };
    return {
      ...this.stats,
      modelTimeMs: round(this.stats.modelTimeMs),
      overheadSamples: this.overheadSamples.length,
      ...summary(this.overheadSamples, 'overhead'),
      ...summary(this.workSamples, 'work'),
    };
  }

  onApplicationShutdown(): void {
    this.logger.log({ msg: 'runner statistics', ...this.statistics() });
  }

  /** Takes a task: returns once it is running (or rejected), not when it is done. */
  async accept(envelope: Envelope<AssignedTask>): Promise<void> {
    const task = envelope.payload;
    const key = attemptKey(task.taskId, task.attempt);
    if (this.takeCancellation(key, task.agentId)) {
      this.logger.log({ msg: 'task was cancelled before it started; not executed', taskId: task.taskId, attempt: task.attempt });
      return;
    }
    if (this.running.has(key)) return; // a redelivery of what already runs here

    const chosen = this.choose(task);
    if ('notOurs' in chosen) {
      this.logger.debug({ msg: 'task belongs to an agent outside this runner', taskId: task.taskId, reason: chosen.notOurs });
      return;
    }
    if ('code' in chosen) {
      this.logger.warn({ msg: 'task rejected', code: chosen.code, taskId: task.taskId, capability: task.capability });
      await this.publishFailure(envelope, task.agentId ?? `agent-runner:${this.config.instanceId}`, undefined, {
        code: chosen.code,
        message: chosen.message,
        retryable: false,
      });
      return;
    }
    const agent = chosen;
    const slots = this.slots.get(agent.id) ?? new AgentSlots(agent.maxConcurrency);
    await slots.acquire();
    // Past the drain's deadline a task that only now got its slot is left for the router to retry, like those aborted.
    if (this.abandoning || this.takeCancellation(key, agent.id)) {
      slots.release();
      return;
    }
    const controller = new AbortController();
    this.running.set(key, { controller, agentId: agent.id });
    // A hung tool or model never holds a slot past the attempt's own deadline.
    const deadline = setTimeout(() => controller.abort(TIMED_OUT), task.timeoutMs);
    const done = this.runAndPublish(agent, envelope, controller.signal)
      .catch((error: unknown) => this.logger.error({ msg: 'publishing a task outcome failed', taskId: task.taskId, error: String(error) }))
      .finally(() => {
        clearTimeout(deadline);
        this.running.delete(key);
        slots.release();
        this.pending.delete(done);
      });
    this.pending.add(done);
  }

  /**
   * Abandons an attempt: its model calls are aborted and nothing is published
   * for it. A cancellation naming an agent stops only that agent's copy: when
   * the router moves a task away from an agent that stopped heartbeating, it
   * cancels the attempt there and gives the same attempt to another agent,
   * possibly on this runner.
   */
  cancel(request: PayloadOf<typeof taskCancelRequested>): void {
    const key = attemptKey(request.taskId, request.attempt);
    const running = this.running.get(key);
    if (running && (request.agentId === undefined || request.agentId === running.agentId)) {
      running.controller.abort();
      this.logger.log({ msg: 'task cancelled while running', taskId: request.taskId, attempt: request.attempt, reason: request.reason });
      return;
    }
    if (running) {
      this.logger.log({
        msg: "cancellation of another agent's copy of a running attempt; it keeps running here",
        taskId: request.taskId,
        attempt: request.attempt,
        agentId: running.agentId,
        cancelledAgentId: request.agentId,
      });
    }
    this.cancelled.add(cancellationKey(key, request.agentId));
    if (this.cancelled.size > MAX_REMEMBERED_CANCELLATIONS) {
      const oldest = this.cancelled.values().next().value;
      if (oldest !== undefined) this.cancelled.delete(oldest);
    }
  }

  /** Whether the attempt was cancelled for every copy or for this agent's (forgetting it once used). */
  private takeCancellation(key: string, agentId: string | undefined): boolean {
    const forAny = this.cancelled.delete(cancellationKey(key, undefined));
    const forAgent = agentId !== undefined && this.cancelled.delete(cancellationKey(key, agentId));
    return forAny || forAgent;
  }

  /**
   * Takes no new tasks, then lets the running ones finish and publish, within
   * RUNNER_DRAIN_TIMEOUT_MS. Closing the consumers first matters: they keep
   * delivering until the bus disconnects, after this hook, and a task that
   * started meanwhile (one waiting for a slot, say) would find the bus gone
   * when it tried to publish its result.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.config.drainTimeoutMs).unref());
    this.logger.log({ msg: 'draining: no new tasks; waiting for running ones', running: this.pending.size });
    // Closing waits for the handlers in flight, so a task waiting for a slot gets one and starts before it returns.
    const intake = this.bus.stopConsuming().then(() => 'stopped' as const);
    const stopped = (await Promise.race([intake, timeout])) === 'stopped';
    if (stopped && (await Promise.race([Promise.all([...this.pending]), timeout])) !== 'timeout') return;
    this.abandoning = true;
    this.logger.warn({ msg: 'drain timed out; abandoning running tasks (the router retries them)', running: this.pending.size });
    for (const { controller } of this.running.values()) controller.abort();
  }

  private choose(task: AssignedTask): AgentDefinition | Rejection | NotOurs {
    if (task.agentId !== undefined) {
      const agent = this.agents.get(task.agentId);
      if (!agent && this.peers.isPeerAgent(task.agentId)) return { notOurs: `agent ${task.agentId} runs elsewhere` };
      if (!agent)
        return { code: 'unknown_agent', message: `agent "${task.agentId}" is not hosted by this runner nor known from any heartbeat` };
      if (!agent.capabilities.includes(task.capability)) {
        return { code: 'capability_not_hosted', message: `agent "${agent.id}" does not have capability "${task.capability}"` };
      }
      return agent;
    }
    const candidates = this.hostedAgents.filter((agent) => agent.capabilities.includes(task.capability));
    if (candidates.length === 0) {
      if (this.peers.peerHasCapability(task.capability)) return { notOurs: `capability ${task.capability} is served elsewhere` };
      return { code: 'no_agent_for_capability', message: `no hosted agent has capability "${task.capability}"` };
    }
    // Least loaded relative to its capacity.
    return candidates.reduce((best, agent) =>
      this.inFlightFor(agent.id) / agent.maxConcurrency < this.inFlightFor(best.id) / best.maxConcurrency ? agent : best,
    );
  }

  private async runAndPublish(agent: AgentDefinition, envelope: Envelope<AssignedTask>, signal: AbortSignal): Promise<void> {
    const task = envelope.payload;
    const started = performance.now();
    const outcome = await this.executor.run(agent, task, signal);
    if (signal.aborted && signal.reason === TIMED_OUT) {
      this.stats.failed += 1;
      this.logger.warn({ msg: 'task timed out', taskId: task.taskId, agentId: agent.id, timeoutMs: task.timeoutMs });
      const timedOut = {
        kind: 'failed' as const,
        code: 'model_error' as const,
        message: `agent ${agent.id} did not finish within the task's ${task.timeoutMs} ms`,
        retryable: true,
        usage: outcome.usage,
      };
      await Promise.all([
        this.publishUsage(agent, envelope, timedOut),
        this.publishFailure(envelope, agent.id, agent.team, { ...timedOut, code: TIMED_OUT }),
      ]);
      return;
    }
    if (outcome.kind === 'cancelled' || signal.aborted) {
      this.stats.cancelled += 1;
      return;
    }
    this.stats.modelTimeMs += outcome.usage.modelTimeMs;
    if (this.workSamples.length < 100_000) this.workSamples.push(performance.now() - started - outcome.usage.modelTimeMs);
    // Two topics, no order between them: published together.
    await Promise.all([this.publishUsage(agent, envelope, outcome), this.publishOutcome(agent, envelope, outcome)]);
    if (this.overheadSamples.length < 100_000) this.overheadSamples.push(performance.now() - started - outcome.usage.modelTimeMs);
  }

  private async publishOutcome(
    agent: AgentDefinition,
    envelope: Envelope<AssignedTask>,
    outcome: Exclude<ExecutionOutcome, { kind: 'cancelled' }>,
  ): Promise<void> {
    const task = envelope.payload;
    if (outcome.kind === 'completed') {
      this.stats.completed += 1;
      await this.bus.publish(
        taskCompleted,
        createEnvelope(
          taskCompleted,
          {
            taskId: task.taskId,
            workflowId: task.workflowId,
            stepId: task.stepId,
            attempt: task.attempt,
            agentId: agent.id,
            output: outcome.output,
            confidence: outcome.confidence,
            usage: {
              model: outcome.usage.lastModel,
              inputTokens: outcome.usage.inputTokens,
              outputTokens: outcome.usage.outputTokens,
              costUsd: outcome.usage.costUsd,
            },
            ...(outcome.contextFactIds !== undefined ? { contextFactIds: outcome.contextFactIds } : {}),
          },
          { ...this.resultMeta(envelope), agentId: agent.id, team: agent.team },
        ),
      );
      return;
    }
    this.stats.failed += 1;
    this.logger.warn({ msg: 'task failed', code: outcome.code, taskId: task.taskId, agentId: agent.id, error: outcome.message });
    await this.publishFailure(envelope, agent.id, agent.team, outcome, outcome.rawOutput);
  }

  private async publishUsage(
    agent: AgentDefinition,
    envelope: Envelope<AssignedTask>,
    outcome: Exclude<ExecutionOutcome, { kind: 'cancelled' }>,
  ): Promise<void> {
    const task = envelope.payload;
    if (outcome.usage.models.length === 0) return; // no model was reached: nothing was consumed
    await this.bus.publish(
      usageRecorded,
      createEnvelope(
        usageRecorded,
        {
          taskId: task.taskId,
          workflowId: task.workflowId,
          stepId: task.stepId,
          attempt: task.attempt,
          agentId: agent.id,
          team: agent.team,
          outcome: outcome.kind,
          inputTokens: outcome.usage.inputTokens,
          outputTokens: outcome.usage.outputTokens,
          costUsd: outcome.usage.costUsd,
          models: outcome.usage.models,
        },
        { ...this.resultMeta(envelope), id: usageEnvelopeId(task.taskId, task.attempt), agentId: agent.id, team: agent.team },
      ),
    );
    recordModelUsage(agent, outcome.usage.models);
  }

  private async publishFailure(
    envelope: Envelope<AssignedTask>,
    agentId: string,
    team: string | undefined,
    error: { code: string; message: string; retryable: boolean },
    rawOutput?: string,
  ): Promise<void> {
    const task = envelope.payload;
    await this.bus.publish(
      taskFailed,
      createEnvelope(
        taskFailed,
        {
          taskId: task.taskId,
          workflowId: task.workflowId,
          stepId: task.stepId,
          attempt: task.attempt,
          agentId,
          error: { code: error.code, message: error.message, retryable: error.retryable },
          ...(rawOutput !== undefined ? { rawOutput } : {}),
        },
        { ...this.resultMeta(envelope), agentId, ...(team ? { team } : {}) },
      ),
    );
  }

  private resultMeta(envelope: Envelope<AssignedTask>): EnvelopeMeta {
    const task = envelope.payload;
    return {
      id: resultEnvelopeId(task.taskId),
      source: this.source,
      correlationId: envelope.correlationId,
      causationId: envelope.id,
      workflowId: task.workflowId,
      stepId: task.stepId,
    };
  }
}

function attemptKey(taskId: string, attempt: number): string {
  return `${taskId}#${attempt}`;
}

/** An attempt's cancellation for one agent's copy, or (no agent named) for every copy. */
function cancellationKey(attempt: string, agentId: string | undefined): string {
  return `${attempt}@${agentId ?? '*'}`;
}
