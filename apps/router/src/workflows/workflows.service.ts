import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  createEnvelope,
  stepCancelled,
  stepCompleted,
  stepDispatched,
  stepFailed,
  stepReassigned,
  stepRetryScheduled,
  stepWaitingForAgent,
  taskAssigned,
  taskCancelRequested,
  taskCompleted,
  taskFailed,
  workflowCancelled,
  workflowCompleted,
  workflowFailed,
  workflowStarted,
  type Envelope,
  type EnvelopeMeta,
  type ErrorInfo,
  type JsonValue,
  type MessageContract,
  type PayloadOf,
  type WorkflowDefinition,
} from '@baton/contracts';
import { Inbox, Outbox } from '@baton/persistence';
import { AgentRegistry } from '../agents/agent-registry.service';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { fromStoredJson, toStoredJson } from '../persistence/stored-json';
import { WorkflowStepEntity } from '../persistence/workflow-step.entity';
import { WorkflowEntity } from '../persistence/workflow.entity';
import { decide, type NodeSpec, type NodeState } from './engine/workflow-engine';
import { WorkflowNotFoundError, WorkflowNotRunningError } from './workflow-errors';

const SOURCE = 'router';

export interface StartWorkflow {
  workflowId: string;
  definition: WorkflowDefinition;
  definitionName?: string;
  input: JsonValue;
  requestedBy: string;
  /** The message that asked for it, when it came over Kafka. */
  cause?: Envelope;
}

type TaskCompletedPayload = PayloadOf<typeof taskCompleted>;
type TaskFailedPayload = PayloadOf<typeof taskFailed>;
type CancelReason = PayloadOf<typeof taskCancelRequested>['reason'];

/**
 * Workflow state transitions. Each one is a single transaction that locks the
 * workflow row, changes the step rows and enqueues the messages it causes
 * (outbox); consumed messages are recorded in the inbox in that same
 * transaction, so redelivery is harmless. What runs next is decided by the
 * pure engine from the rows alone, so a restarted router resumes where the
 * last commit left off.
 */
@Injectable()
export class WorkflowsService {
  private readonly logger = new Logger(WorkflowsService.name);
  /** Heartbeats are only trusted once this process had time to read them. */
  private readonly startedAt = Date.now();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly inbox: Inbox,
    private readonly registry: AgentRegistry,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  async start(command: StartWorkflow): Promise<WorkflowEntity> {
    await this.dataSource.transaction((manager) => this.startIn(manager, command));
    return this.get(command.workflowId);
  }

  /** Starts a workflow requested over Kafka, once per request envelope and once per workflow id. */
  async startFromRequest(command: StartWorkflow & { cause: Envelope }): Promise<void> {
    await this.inbox.handleOnce(this.dataSource, 'router.workflow-requests', command.cause, (manager) =>
      this.startIn(manager, command),
    );
  }

  async onTaskCompleted(envelope: Envelope<TaskCompletedPayload>): Promise<void> {
    await this.inbox.handleOnce(this.dataSource, 'router.task-results', envelope, async (manager) => {
      const result = envelope.payload;
      const workflow = await this.lockRunning(manager, result.workflowId);
      if (!workflow) return;
      const step = await this.currentAttempt(manager, result.workflowId, result.stepId, result.taskId);
      if (!step) return;
      const meta = this.causedBy(envelope, workflow);

      step.status = 'completed';
      step.output = toStoredJson(result.output);
      step.confidence = result.confidence;
      step.agentId = result.agentId;
      step.completedAt = new Date();
      step.deadlineAt = null;
      step.completionOrder = await this.nextCompletionOrder(manager, workflow.id);
      await manager.save(step);
      await this.emit(manager, stepCompleted, {
        workflowId: step.workflowId,
        stepId: step.stepId,
        taskId: result.taskId,
        attempt: step.attempt,
        agentId: result.agentId,
        output: result.output,
        confidence: result.confidence,
      }, { ...meta, stepId: step.stepId });
      await this.advance(manager, workflow, meta);
    });
  }

  async onTaskFailed(envelope: Envelope<TaskFailedPayload>): Promise<void> {
    await this.inbox.handleOnce(this.dataSource, 'router.task-results', envelope, async (manager) => {
      const failure = envelope.payload;
      const workflow = await this.lockRunning(manager, failure.workflowId);
      if (!workflow) return;
      const step = await this.currentAttempt(manager, failure.workflowId, failure.stepId, failure.taskId);
      if (!step) return;
      step.agentId = failure.agentId;
      await this.attemptFailed(manager, workflow, step, failure.error, this.causedBy(envelope, workflow));
    });
  }

  /** Dispatches again every step whose retry backoff has elapsed; returns how many. */
  async dispatchDueRetries(limit = 200): Promise<number> {
    const due = await this.dataSource.getRepository(WorkflowStepEntity).find({
      select: { workflowId: true, stepId: true },
      where: { status: 'retry_wait' },
      order: { notBefore: 'ASC' },
      take: limit,
    });
    let count = 0;
    for (const { workflowId, stepId } of due) {
      await this.dataSource.transaction(async (manager) => {
        const workflow = await this.lockRunning(manager, workflowId);
        if (!workflow) return;
        const step = await manager.findOneBy(WorkflowStepEntity, { workflowId, stepId });
        if (!step || step.status !== 'retry_wait' || !step.spec || (step.notBefore && step.notBefore > new Date())) return;
        await this.dispatchAttempt(manager, workflow, step, step.spec, step.attempt + 1, this.own(workflow));
        count += 1;
      });
    }
    return count;
  }

  /** Cancels every open attempt past its deadline and fails or retries it; returns how many. */
  async expireOverdueAttempts(limit = 200): Promise<number> {
    const now = new Date();
    const overdue = await this.dataSource
      .getRepository(WorkflowStepEntity)
      .createQueryBuilder('step')
      .select(['step.workflowId', 'step.stepId'])
      .where('step.status = :status AND step.deadline_at <= :now', { status: 'dispatched', now })
      .orderBy('step.deadline_at', 'ASC')
      .limit(limit)
      .getMany();
    let count = 0;
    for (const { workflowId, stepId } of overdue) {
      await this.dataSource.transaction(async (manager) => {
        const workflow = await this.lockRunning(manager, workflowId);
        if (!workflow) return;
        const step = await manager.findOneBy(WorkflowStepEntity, { workflowId, stepId });
        if (!step || step.status !== 'dispatched' || !step.deadlineAt || step.deadlineAt > new Date()) return;
        const meta = this.own(workflow);
        await this.cancelAttempt(manager, step, 'timed_out', meta);
        const timeoutMs = step.spec?.timeoutMs ?? this.config.defaultStepTimeoutMs;
        await this.attemptFailed(
          manager,
          workflow,
          step,
          { code: 'timed_out', message: `step ${stepId} attempt ${step.attempt} timed out after ${timeoutMs} ms`, retryable: true },
          meta,
        );
        count += 1;
      });
    }
    return count;
  }

  /** Cancels a running workflow: open attempts are asked to stop, nothing further is dispatched. */
  async cancel(workflowId: string, requestedBy: string, reason: string): Promise<WorkflowEntity> {
    await this.dataSource.transaction(async (manager) => {
      const workflow = await manager.findOne(WorkflowEntity, { where: { id: workflowId }, lock: { mode: 'pessimistic_write' } });
      if (!workflow) throw new WorkflowNotFoundError(workflowId);
      if (workflow.status !== 'running') throw new WorkflowNotRunningError(workflowId, workflow.status);
      const meta = this.own(workflow);
      const open = await manager.find(WorkflowStepEntity, { where: [
        { workflowId, status: 'dispatched' },
        { workflowId, status: 'retry_wait' },
        { workflowId, status: 'waiting_for_agent' },
      ] });
      for (const step of open) {
        if (step.status === 'dispatched') await this.cancelAttempt(manager, step, 'workflow_cancelled', meta);
        step.status = 'cancelled';
        step.deadlineAt = null;
        step.notBefore = null;
        step.completedAt = new Date();
        await manager.save(step);
      }
      workflow.status = 'cancelled';
      workflow.error = { code: 'cancelled', message: reason };
      await manager.save(workflow);
      await this.emit(manager, workflowCancelled, { workflowId, reason, requestedBy }, meta);
    });
    return this.get(workflowId);
  }

  async get(workflowId: string): Promise<WorkflowEntity> {
    const workflow = await this.dataSource.getRepository(WorkflowEntity).findOne({
      where: { id: workflowId },
      relations: { steps: true },
      order: { steps: { position: 'ASC' } },
    });
    if (!workflow) throw new WorkflowNotFoundError(workflowId);
    return workflow;
  }

  private async startIn(manager: EntityManager, command: StartWorkflow): Promise<void> {
    if (await manager.existsBy(WorkflowEntity, { id: command.workflowId })) {
      this.logger.warn({ msg: 'workflow already exists; request ignored', workflowId: command.workflowId });
      return;
    }
    const workflow = manager.create(WorkflowEntity, {
      id: command.workflowId,
      name: command.definition.name,
      definition: command.definition,
      definitionName: command.definitionName ?? null,
      input: toStoredJson(command.input),
      status: 'running',
      output: null,
      error: null,
      correlationId: command.cause?.correlationId ?? command.workflowId,
      requestedBy: command.requestedBy,
    });
    await manager.save(workflow);
    const meta: EnvelopeMeta = {
      source: SOURCE,
      correlationId: workflow.correlationId,
      workflowId: workflow.id,
      ...(command.cause ? { causationId: command.cause.id } : {}),
    };
    await this.emit(manager, workflowStarted, {
      workflowId: workflow.id,
      definition: command.definition,
      input: command.input,
    }, meta);
    await this.advance(manager, workflow, meta);
  }

  /** Applies the engine's decision: cancel what is no longer needed, dispatch what is ready, finish. */
  private async advance(manager: EntityManager, workflow: WorkflowEntity, meta: EnvelopeMeta): Promise<void> {
    const rows = await manager.find(WorkflowStepEntity, { where: { workflowId: workflow.id } });
    const byId = new Map(rows.map((row) => [row.stepId, row]));
    const nodes = new Map<string, NodeState>(rows.map((row) => [row.stepId, nodeStateOf(row)]));
    const decision = decide(workflow.definition, fromStoredJson(workflow.input), nodes);

    for (const stepId of decision.cancel) {
      const step = byId.get(stepId);
      if (!step) continue;
      if (step.status === 'dispatched') await this.cancelAttempt(manager, step, 'superseded', meta);
      step.status = 'cancelled';
      step.deadlineAt = null;
      step.notBefore = null;
      step.completedAt = new Date();
      await manager.save(step);
    }
    let position = rows.length;
    for (const spec of decision.dispatch) {
      const step = manager.create(WorkflowStepEntity, {
        workflowId: workflow.id,
        stepId: spec.stepId,
        position: position++,
        capability: spec.capability,
        status: 'pending',
        attempt: 0,
        taskId: null,
        input: toStoredJson(spec.input),
        output: null,
        confidence: null,
        agentId: null,
        error: null,
        dispatchedAt: null,
        completedAt: null,
        spec,
        deadlineAt: null,
        notBefore: null,
        waitReason: null,
        completionOrder: null,
      });
      await this.dispatchAttempt(manager, workflow, step, spec, 1, meta);
    }
    if (!decision.outcome) return;
    if (decision.outcome.status === 'completed') {
      workflow.status = 'completed';
      workflow.output = toStoredJson(decision.outcome.output);
      await manager.save(workflow);
      await this.emit(manager, workflowCompleted, { workflowId: workflow.id, output: decision.outcome.output }, meta);
      return;
    }
    workflow.status = 'failed';
    workflow.error = { code: decision.outcome.error.code, message: decision.outcome.error.message };
    await manager.save(workflow);
    await this.emit(manager, workflowFailed, {
      workflowId: workflow.id,
      stepId: decision.outcome.stepId,
      error: decision.outcome.error,
    }, meta);
  }

  private async dispatchAttempt(
    manager: EntityManager,
    workflow: WorkflowEntity,
    step: WorkflowStepEntity,
    spec: NodeSpec,
    attempt: number,
    meta: EnvelopeMeta,
  ): Promise<void> {
    step.attempt = attempt;
    step.taskId = randomUUID();
    step.notBefore = null;
    step.agentId = null;
    step.status = 'pending';
    await this.assign(manager, workflow, step, spec, meta);
  }

  /**
   * Sends the step's open attempt to the best eligible agent, or parks it as
   * waiting_for_agent with the reason (the timer retries as agents free up,
   * until the wait deadline). The task id stays the same across reassignments,
   * so agents' effects stay once.
   */
  private async assign(
    manager: EntityManager,
    workflow: WorkflowEntity,
    step: WorkflowStepEntity,
    spec: NodeSpec,
    meta: EnvelopeMeta,
    exclude: ReadonlySet<string> = new Set(),
  ): Promise<boolean> {
    const taskId = step.taskId ?? randomUUID();
    step.taskId = taskId;
    const now = new Date();
    const stepMeta = { ...meta, stepId: step.stepId };
    await this.registry.lockAssignments(manager);
    const choice = await this.registry.choose(manager, spec, exclude);
    if ('reason' in choice) {
      const firstWait = step.status !== 'waiting_for_agent';
      step.status = 'waiting_for_agent';
      step.agentId = null;
      step.waitReason = choice.reason;
      if (firstWait) {
        step.dispatchedAt = now;
        step.deadlineAt = new Date(now.getTime() + (workflow.definition.agentWaitTimeoutMs ?? this.config.agentWaitTimeoutMs));
      }
      await manager.save(step);
      if (firstWait) {
        await this.emit(manager, stepWaitingForAgent, {
          workflowId: workflow.id,
          stepId: step.stepId,
          taskId,
          attempt: step.attempt,
          capability: spec.capability,
          reason: choice.reason,
          waitUntil: (step.deadlineAt ?? now).toISOString(),
        }, stepMeta);
      }
      return false;
    }
    const timeoutMs = spec.timeoutMs ?? this.config.defaultStepTimeoutMs;
    step.status = 'dispatched';
    step.agentId = choice.agentId;
    step.waitReason = null;
    step.dispatchedAt = now;
    step.deadlineAt = new Date(now.getTime() + timeoutMs);
    await manager.save(step);
    await this.emit(manager, taskAssigned, {
      taskId,
      workflowId: workflow.id,
      stepId: step.stepId,
      attempt: step.attempt,
      capability: spec.capability,
      agentId: choice.agentId,
      input: spec.input,
      timeoutMs,
      ...(spec.scopes ? { scopes: spec.scopes } : {}),
    }, { ...stepMeta, agentId: choice.agentId });
    await this.emit(manager, stepDispatched, {
      workflowId: workflow.id,
      stepId: step.stepId,
      taskId,
      attempt: step.attempt,
      capability: spec.capability,
      input: spec.input,
      agentId: choice.agentId,
    }, stepMeta);
    return true;
  }

  /** Steps waiting for an agent: assigned when one is eligible, failed when their wait deadline passed. */
  async assignWaiting(limit = 200): Promise<number> {
    const waiting = await this.dataSource.getRepository(WorkflowStepEntity).find({
      select: { workflowId: true, stepId: true },
      where: { status: 'waiting_for_agent' },
      order: { dispatchedAt: 'ASC' },
      take: limit,
    });
    let assigned = 0;
    for (const { workflowId, stepId } of waiting) {
      await this.dataSource.transaction(async (manager) => {
        const workflow = await this.lockRunning(manager, workflowId);
        if (!workflow) return;
        const step = await manager.findOneBy(WorkflowStepEntity, { workflowId, stepId });
        if (!step || step.status !== 'waiting_for_agent' || !step.spec) return;
        const meta = this.own(workflow);
        if (step.deadlineAt && step.deadlineAt <= new Date()) {
          await this.attemptFailed(manager, workflow, step, {
            code: 'no_eligible_agent',
            message: `no eligible agent before the wait deadline: ${step.waitReason ?? 'unknown'}`,
            retryable: false,
          }, meta);
          return;
        }
        if (await this.assign(manager, workflow, step, step.spec, meta)) assigned += 1;
      });
    }
    return assigned;
  }

  /** Open attempts held by agents that stopped heartbeating move to other agents (same task id). */
  async reassignFromDeadAgents(limit = 200): Promise<number> {
    // Right after a (re)start the registry still holds the heartbeats read by the previous
    // process; judging liveness before fresh ones arrive would reassign healthy agents' work.
    if (Date.now() - this.startedAt < this.config.agentTimeoutMs) return 0;
    const dead = await this.registry.deadAgentIds(this.dataSource.manager);
    if (dead.length === 0) return 0;
    const rows: Array<{ workflow_id: string; step_id: string }> = await this.dataSource.query(
      `SELECT workflow_id, step_id FROM ${this.table('workflow_steps')}
        WHERE status = 'dispatched' AND agent_id = ANY($1::text[]) LIMIT $2`,
      [dead, limit],
    );
    const held = rows.map((row) => ({ workflowId: row.workflow_id, stepId: row.step_id }));
    this.logger.debug({ msg: 'dead agents', dead, held: held.length });
    let moved = 0;
    const deadSet = new Set(dead);
    for (const { workflowId, stepId } of held) {
      await this.dataSource.transaction(async (manager) => {
        const workflow = await this.lockRunning(manager, workflowId);
        if (!workflow) return;
        const step = await manager.findOneBy(WorkflowStepEntity, { workflowId, stepId });
        if (!step || step.status !== 'dispatched' || !step.agentId || !deadSet.has(step.agentId) || !step.spec || !step.taskId) return;
        const meta = this.own(workflow);
        const stepMeta = { ...meta, stepId };
        const fromAgentId = step.agentId;
        const ref = { taskId: step.taskId, workflowId, stepId, attempt: step.attempt };
        await this.emit(manager, taskCancelRequested, { ...ref, agentId: fromAgentId, reason: 'superseded' }, stepMeta);
        const reason = `agent ${fromAgentId} missed heartbeats for ${this.config.agentTimeoutMs} ms`;
        await this.emit(manager, stepReassigned, { ...ref, fromAgentId, reason }, stepMeta);
        step.status = 'pending';
        const assigned = await this.assign(manager, workflow, step, step.spec, meta, deadSet);
        this.logger.log({ msg: 'task of a dead agent reassigned', workflowId, stepId, fromAgentId, toAgentId: assigned ? step.agentId : null });
        moved += 1;
      });
    }
    return moved;
  }

  /** A failed or timed-out attempt: retried after a backoff while the policy allows, else the step fails. */
  private async attemptFailed(
    manager: EntityManager,
    workflow: WorkflowEntity,
    step: WorkflowStepEntity,
    error: ErrorInfo,
    meta: EnvelopeMeta,
  ): Promise<void> {
    const stepMeta = { ...meta, stepId: step.stepId };
    await this.emit(manager, stepFailed, {
      workflowId: step.workflowId,
      stepId: step.stepId,
      taskId: step.taskId ?? randomUUID(),
      attempt: step.attempt,
      error,
    }, stepMeta);
    const retry = step.spec?.retry ?? {
      maxAttempts: this.config.maxAttempts,
      backoffMs: this.config.retryBackoffMs,
      backoffMultiplier: 2,
    };
    step.deadlineAt = null;
    step.error = error;
    if (error.retryable && step.attempt < retry.maxAttempts && step.spec) {
      const delay = Math.round(retry.backoffMs * retry.backoffMultiplier ** (step.attempt - 1));
      step.status = 'retry_wait';
      step.notBefore = new Date(Date.now() + delay);
      await manager.save(step);
      await this.emit(manager, stepRetryScheduled, {
        workflowId: step.workflowId,
        stepId: step.stepId,
        nextAttempt: step.attempt + 1,
        notBefore: step.notBefore.toISOString(),
        error,
      }, stepMeta);
      return;
    }
    step.status = 'failed';
    step.completedAt = new Date();
    step.completionOrder = await this.nextCompletionOrder(manager, workflow.id);
    await manager.save(step);
    await this.advance(manager, workflow, meta);
  }

  private async cancelAttempt(manager: EntityManager, step: WorkflowStepEntity, reason: CancelReason, meta: EnvelopeMeta): Promise<void> {
    if (!step.taskId) return;
    const ref = { taskId: step.taskId, workflowId: step.workflowId, stepId: step.stepId, attempt: step.attempt };
    const stepMeta = { ...meta, stepId: step.stepId };
    await this.emit(manager, taskCancelRequested, { ...ref, ...(step.agentId ? { agentId: step.agentId } : {}), reason }, stepMeta);
    await this.emit(manager, stepCancelled, { ...ref, reason }, stepMeta);
  }

  /** Locks the workflow row (serializing its transitions); undefined when it is gone or no longer running. */
  private async lockRunning(manager: EntityManager, workflowId: string): Promise<WorkflowEntity | undefined> {
    const workflow = await manager.findOne(WorkflowEntity, { where: { id: workflowId }, lock: { mode: 'pessimistic_write' } });
    if (!workflow || workflow.status !== 'running') {
      this.logger.warn({ msg: 'event for a workflow that is not running ignored', workflowId, status: workflow?.status });
      return undefined;
    }
    return workflow;
  }

  /** The step row if `taskId` is its current, still-open attempt; stale or duplicate results get undefined. */
  private async currentAttempt(
    manager: EntityManager,
    workflowId: string,
    stepId: string,
    taskId: string,
  ): Promise<WorkflowStepEntity | undefined> {
    const step = await manager.findOneBy(WorkflowStepEntity, { workflowId, stepId });
    // A result for the open task id counts even if the task was parked for reassignment meanwhile.
    if (!step || step.taskId !== taskId || (step.status !== 'dispatched' && step.status !== 'waiting_for_agent')) {
      this.logger.warn({ msg: 'stale task result ignored', workflowId, stepId, taskId });
      return undefined;
    }
    return step;
  }

  private async nextCompletionOrder(manager: EntityManager, workflowId: string): Promise<number> {
    const rows: Array<{ next: number }> = await manager.query(
      `SELECT COALESCE(MAX(completion_order), 0) + 1 AS next FROM ${this.table('workflow_steps')} WHERE workflow_id = $1`,
      [workflowId],
    );
    return Number(rows[0]?.next ?? 1);
  }

  private table(name: string): string {
    return `"${this.config.dbSchema}"."${name}"`;
  }

  private own(workflow: WorkflowEntity): EnvelopeMeta {
    return { source: SOURCE, correlationId: workflow.correlationId, workflowId: workflow.id };
  }

  private causedBy(cause: Envelope, workflow: WorkflowEntity): EnvelopeMeta {
    return { ...this.own(workflow), causationId: cause.id };
  }

  private async emit<P>(
    manager: EntityManager,
    contract: MessageContract<P>,
    payload: P,
    meta: EnvelopeMeta,
  ): Promise<void> {
    await this.outbox.enqueue(manager, contract, createEnvelope(contract, payload, meta));
  }
}

function nodeStateOf(row: WorkflowStepEntity): NodeState {
  switch (row.status) {
    case 'completed':
      return { status: 'completed', output: row.output === null ? null : fromStoredJson(row.output), order: row.completionOrder ?? 0 };
    case 'failed':
      return { status: 'failed', ...(row.error ? { error: row.error } : {}), order: row.completionOrder ?? 0 };
    case 'cancelled':
      return { status: 'cancelled' };
    case 'pending':
    case 'waiting_for_agent':
    case 'dispatched':
    case 'retry_wait':
      return { status: 'running' };
  }
}
