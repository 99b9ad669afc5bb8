import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Context, context, type Span, trace } from '@opentelemetry/api';
import { DataSource, type EntityManager, LessThanOrEqual } from 'typeorm';
import {
  TASK_COMPLETED,
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
import { Inbox, Outbox, queued, type QueuedMessage } from '@baton/persistence';
import { AgentRegistry, type AgentAssignments } from '../agents/agent-registry.service';
import type { Assignment } from '../agents/assignment';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { fromStoredJson, toStoredJson } from '../persistence/stored-json';
import { WorkflowStepEntity } from '../persistence/workflow-step.entity';
import { WorkflowEntity } from '../persistence/workflow.entity';
import { WorkflowStore, type WorkflowRow } from '../persistence/workflow-store';
import { decide, type NodeSpec, type NodeState } from './engine/workflow-engine';
import { WorkflowNotFoundError, WorkflowNotRunningError } from './workflow-errors';
import { TransitionMetrics } from './workflow-metrics';
import { inWorkflowTrace, recordRoute, SPAN_ATTRIBUTES, startWorkflowSpan, traceParentOf } from './workflow-tracing';

const SOURCE = 'router';

export interface StartWorkflow {
  workflowId: string;
  definition: WorkflowDefinition;
  definitionName?: string;
  input: JsonValue;
  requestedBy: string;
  /** The message that asked for it, when it came over Kafka. */
  cause?: Envelope;
  /** The trace the workflow joins: the request message's; by default the active one (an HTTP request's). */
  traceContext?: Context;
}

/** A task result with the trace context of the message that carried it. */
export interface TaskResult {
  envelope: Envelope<TaskCompletedPayload> | Envelope<TaskFailedPayload>;
  traceContext: Context;
}

type TaskCompletedPayload = PayloadOf<typeof taskCompleted>;
type TaskFailedPayload = PayloadOf<typeof taskFailed>;
type CancelReason = PayloadOf<typeof taskCancelRequested>['reason'];

/**
 * One transition of one workflow, inside its transaction: the workflow row
 * (locked) and all its step rows in memory, what changed, and the messages it
 * causes. Everything is written at the end: changed steps, the workflow if it
 * finished, and the outbox rows, so agent reservations (which count written
 * steps plus this transition's pending ones) never count a step twice.
 */
class Transition {
  readonly messages: QueuedMessage[] = [];
  readonly changed = new Set<WorkflowStepEntity>();
  readonly metrics = new TransitionMetrics();
  workflowFinished = false;

  constructor(
    readonly manager: EntityManager,
    readonly workflow: WorkflowEntity,
    readonly steps: WorkflowStepEntity[],
    /** Shared by every transition of the transaction, so their reservations add up. */
    readonly assignments: AgentAssignments,
  ) {}

  find(stepId: string): WorkflowStepEntity | undefined {
    return this.steps.find((step) => step.stepId === stepId);
  }

  touch(step: WorkflowStepEntity): void {
    this.changed.add(step);
  }

  emit<P>(contract: MessageContract<P>, payload: P, meta: EnvelopeMeta): void {
    this.messages.push(queued(contract, createEnvelope(contract, payload, meta)));
  }

  /** Completion order within the workflow; the workflow lock makes the in-memory maximum safe. */
  nextCompletionOrder(): number {
    return this.steps.reduce((max, step) => Math.max(max, step.completionOrder ?? 0), 0) + 1;
  }
}

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
  private readonly store: WorkflowStore;
  /** The transitions each open transaction wrote, so their metrics are recorded once it committed. */
  private readonly written = new WeakMap<EntityManager, Transition[]>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly inbox: Inbox,
    private readonly registry: AgentRegistry,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {
    this.store = new WorkflowStore(config.dbSchema);
  }

  async start(command: StartWorkflow): Promise<WorkflowEntity> {
    await this.inTransaction((manager) => this.startIn(manager, [command]));
    return this.get(command.workflowId);
  }

  /**
   * Starts the workflows requested over Kafka, a fetched batch in one
   * transaction: once per request envelope (inbox) and once per workflow id.
   */
  async startFromRequests(commands: ReadonlyArray<StartWorkflow & { cause: Envelope }>): Promise<void> {
    if (commands.length === 0) return;
    await this.inTransaction(async (manager) => {
      const fresh = await this.inbox.claimMany(
        manager,
        'router.workflow-requests',
        commands.map((command) => command.cause.id),
      );
      await this.startIn(
        manager,
        commands.filter((command) => fresh.has(command.cause.id)),
      );
    });
  }

  /**
   * Task results, a fetched batch at a time: one transaction claims them in the
   * inbox, locks their workflows (in id order), reads all their steps at once,
   * applies each result in order and writes everything together. A batch that
   * fails is handled again one result at a time by the consumer.
   */
  async onTaskResults(results: readonly TaskResult[]): Promise<void> {
    if (results.length === 0) return;
    const envelopes = results.map((result) => result.envelope);
    await this.inTransaction(async (manager) => {
      // Claim and lock in one round trip: the workflows of the whole batch are locked (redeliveries included), and their
      // steps are read in the next statement, after any wait for those locks.
      const workflowIds = [...new Set(envelopes.map((envelope) => envelope.payload.workflowId.toLowerCase()))];
      const { fresh, rows } = await this.inbox.claimManyAndRead<WorkflowRow>(
        manager,
        'router.task-results',
        envelopes.map((envelope) => envelope.id),
        this.store.lockWorkflowsStatement(workflowIds),
      );
      const todo = results.filter(({ envelope }) => fresh.has(envelope.id));
      if (todo.length === 0) return;
      const workflows = this.store.workflowsOf(rows);
      const running = workflows.filter((workflow) => workflow.status === 'running');
      const steps = await this.store.stepsOf(
        manager,
        running.map((workflow) => workflow.id),
      );
      const assignments = this.registry.assignments(manager);
      const transitions = new Map(
        running.map((workflow) => [workflow.id, new Transition(manager, workflow, steps.get(workflow.id) ?? [], assignments)]),
      );
      for (const { envelope, traceContext } of todo) {
        const workflowId = envelope.payload.workflowId.toLowerCase();
        const t = transitions.get(workflowId);
        if (!t) {
          const status = workflows.find((workflow) => workflow.id === workflowId)?.status;
          this.logger.warn({ msg: 'task result for a workflow that is not running ignored', workflowId, status, type: envelope.type });
          continue;
        }
        // What the result causes continues the trace of the message that carried it.
        context.with(traceContext, () => {
          if (envelope.type === TASK_COMPLETED) this.applyCompleted(t, envelope as Envelope<TaskCompletedPayload>);
          else this.applyFailed(t, envelope as Envelope<TaskFailedPayload>);
        });
      }
      await this.write([...transitions.values()]);
    });
  }

  private applyCompleted(t: Transition, envelope: Envelope<TaskCompletedPayload>): void {
    if (t.workflow.status !== 'running') return;
    const result = envelope.payload;
    const step = this.currentAttempt(t, result.stepId, result.taskId);
    if (!step) return;
    const meta = this.causedBy(envelope, t.workflow);
    step.status = 'completed';
    step.output = toStoredJson(result.output);
    step.confidence = result.confidence;
    step.agentId = result.agentId;
    step.completedAt = new Date();
    step.deadlineAt = null;
    step.completionOrder = t.nextCompletionOrder();
    t.touch(step);
    t.metrics.attemptEnded(step);
    t.emit(
      stepCompleted,
      {
        workflowId: step.workflowId,
        stepId: step.stepId,
        taskId: result.taskId,
        attempt: step.attempt,
        agentId: result.agentId,
        output: result.output,
        confidence: result.confidence,
      },
      { ...meta, stepId: step.stepId },
    );
    this.advance(t, meta);
  }

  private applyFailed(t: Transition, envelope: Envelope<TaskFailedPayload>): void {
    if (t.workflow.status !== 'running') return;
    const failure = envelope.payload;
    const step = this.currentAttempt(t, failure.stepId, failure.taskId);
    if (!step) return;
    step.agentId = failure.agentId;
    this.attemptFailed(t, step, failure.error, this.causedBy(envelope, t.workflow));
  }

  /** Dispatches again every step whose retry backoff has elapsed; returns how many. */
  async dispatchDueRetries(limit = 200): Promise<number> {
    const due = await this.dataSource.getRepository(WorkflowStepEntity).find({
      select: { workflowId: true, stepId: true },
      // Only those due: a step still backing off is not locked (nor traced) on every tick.
      where: { status: 'retry_wait', notBefore: LessThanOrEqual(new Date()) },
      order: { notBefore: 'ASC' },
      take: limit,
    });
    let count = 0;
    for (const { workflowId, stepId } of due) {
      await this.inTransaction((manager) =>
        this.transition(manager, workflowId, 'retry step', async (t) => {
          const step = t.find(stepId);
          if (!step || step.status !== 'retry_wait' || !step.spec || (step.notBefore && step.notBefore > new Date())) return;
          this.dispatchAttempt(t, step, step.spec, step.attempt + 1, this.own(t.workflow));
          count += 1;
        }),
      );
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
      await this.inTransaction((manager) =>
        this.transition(manager, workflowId, 'expire attempt', async (t) => {
          const step = t.find(stepId);
          if (!step || step.status !== 'dispatched' || !step.deadlineAt || step.deadlineAt > new Date()) return;
          const meta = this.own(t.workflow);
          this.cancelAttempt(t, step, 'timed_out', meta);
          const timeoutMs = step.spec?.timeoutMs ?? this.config.defaultStepTimeoutMs;
          this.attemptFailed(
            t,
            step,
            { code: 'timed_out', message: `step ${stepId} attempt ${step.attempt} timed out after ${timeoutMs} ms`, retryable: true },
            meta,
          );
          count += 1;
        }),
      );
    }
    return count;
  }

  /** Cancels a running workflow: open attempts are asked to stop, nothing further is dispatched. */
  async cancel(workflowId: string, requestedBy: string, reason: string): Promise<WorkflowEntity> {
    await this.inTransaction(async (manager) => {
      const workflow = await this.store.lockWorkflow(manager, workflowId);
      if (!workflow) throw new WorkflowNotFoundError(workflowId);
      if (workflow.status !== 'running') throw new WorkflowNotRunningError(workflowId, workflow.status);
      await inWorkflowTrace('cancel workflow', workflow.traceParent, { [SPAN_ATTRIBUTES.workflowId]: workflow.id }, () =>
        this.cancelIn(manager, workflow, requestedBy, reason),
      );
    });
    return this.get(workflowId);
  }

  private async cancelIn(manager: EntityManager, workflow: WorkflowEntity, requestedBy: string, reason: string): Promise<void> {
    const workflowId = workflow.id;
    const t = new Transition(manager, workflow, await this.store.steps(manager, workflowId), this.registry.assignments(manager));
    const meta = this.own(workflow);
    for (const step of t.steps) {
      if (step.status !== 'dispatched' && step.status !== 'retry_wait' && step.status !== 'waiting_for_agent') continue;
      if (step.status === 'dispatched') this.cancelAttempt(t, step, 'workflow_cancelled', meta);
      step.status = 'cancelled';
      step.deadlineAt = null;
      step.notBefore = null;
      step.completedAt = new Date();
      t.touch(step);
    }
    workflow.status = 'cancelled';
    workflow.error = { code: 'cancelled', message: reason };
    t.workflowFinished = true;
    t.emit(workflowCancelled, { workflowId, reason, requestedBy }, meta);
    await this.write([t]);
  }

  /** A transaction whose transitions' metrics are recorded after it committed. */
  private async inTransaction(work: (manager: EntityManager) => Promise<void>): Promise<void> {
    const transitions: Transition[] = [];
    await this.dataSource.transaction((manager) => {
      this.written.set(manager, transitions);
      return work(manager);
    });
    for (const t of transitions) t.metrics.recordCommitted();
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

  /** Creates the workflows (a workflow id that exists already is left alone) and dispatches their first steps. */
  private async startIn(manager: EntityManager, commands: readonly StartWorkflow[]): Promise<void> {
    const now = new Date();
    const byId = new Map<string, { command: StartWorkflow; workflow: WorkflowEntity; span: Span; spanContext: Context }>();
    for (const command of commands) {
      const id = command.workflowId.toLowerCase();
      if (byId.has(id)) {
        this.logger.warn({ msg: 'workflow requested twice in one batch; the later request ignored', workflowId: command.workflowId });
        continue;
      }
      const parent = command.traceContext ?? context.active();
      const span = startWorkflowSpan(parent, {
        [SPAN_ATTRIBUTES.workflowId]: command.workflowId,
        [SPAN_ATTRIBUTES.workflowName]: command.definition.name,
        [SPAN_ATTRIBUTES.pattern]: command.definition.pattern,
      });
      byId.set(id, {
        command,
        span,
        spanContext: trace.setSpan(parent, span),
        workflow: {
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
          traceParent: traceParentOf(span),
          createdAt: now,
          updatedAt: now,
        },
      });
    }
    const inserted = await this.store.insertWorkflows(
      manager,
      [...byId.values()].map((entry) => entry.workflow),
    );
    const assignments = this.registry.assignments(manager);
    const transitions: Transition[] = [];
    for (const [id, { command, workflow, span, spanContext }] of byId) {
      span.end();
      if (!inserted.has(id)) {
        span.setAttribute('baton.workflow.duplicate', true);
        this.logger.warn({ msg: 'workflow already exists; request ignored', workflowId: command.workflowId });
        continue;
      }
      const meta: EnvelopeMeta = {
        source: SOURCE,
        correlationId: workflow.correlationId,
        workflowId: workflow.id,
        ...(command.cause ? { causationId: command.cause.id } : {}),
      };
      const t = new Transition(manager, workflow, [], assignments);
      context.with(spanContext, () => {
        t.emit(workflowStarted, { workflowId: workflow.id, definition: command.definition, input: command.input }, meta);
        this.advance(t, meta);
      });
      transitions.push(t);
    }
    await this.write(transitions);
  }

  /**
   * Runs `body` on the locked workflow and its steps, then writes what it
   * changed; a workflow that is gone or no longer running is left alone.
   */
  private async transition(
    manager: EntityManager,
    workflowId: string,
    name: string,
    body: (t: Transition) => Promise<void>,
  ): Promise<void> {
    const workflow = await this.store.lockWorkflow(manager, workflowId);
    if (!workflow || workflow.status !== 'running') {
      this.logger.warn({ msg: 'event for a workflow that is not running ignored', workflowId, status: workflow?.status });
      return;
    }
    const t = new Transition(manager, workflow, await this.store.steps(manager, workflowId), this.registry.assignments(manager));
    // No message caused this transition: it joins the workflow's trace.
    await inWorkflowTrace(name, workflow.traceParent, { [SPAN_ATTRIBUTES.workflowId]: workflow.id }, () => body(t));
    await this.write([t]);
  }

  /** Writes what the transitions of one transaction changed, after all their reservations were made. */
  private async write(transitions: readonly Transition[]): Promise<void> {
    const [first] = transitions;
    if (!first) return;
    this.written.get(first.manager)?.push(...transitions);
    for (const t of transitions) if (t.workflowFinished) t.metrics.workflowEnded(t.workflow);
    for (const assignments of new Set(transitions.map((t) => t.assignments))) await assignments.flush();
    // Step rows, finished workflows and outbox rows: one statement, one round trip.
    await this.outbox.enqueueMany(
      first.manager,
      transitions.flatMap((t) => t.messages),
      [
        ...this.store.saveSteps(transitions.flatMap((t) => [...t.changed])),
        ...this.store.finishWorkflows(transitions.filter((t) => t.workflowFinished).map((t) => t.workflow)),
      ],
    );
  }

  /** Applies the engine's decision: cancel what is no longer needed, dispatch what is ready, finish. */
  private advance(t: Transition, meta: EnvelopeMeta): void {
    const { workflow } = t;
    const nodes = new Map<string, NodeState>(t.steps.map((row) => [row.stepId, nodeStateOf(row)]));
    const decision = decide(workflow.definition, fromStoredJson(workflow.input), nodes);

    for (const stepId of decision.cancel) {
      const step = t.find(stepId);
      if (!step) continue;
      if (step.status === 'dispatched') this.cancelAttempt(t, step, 'superseded', meta);
      // No agent holds an attempt that waits for an agent or a retry, or that this batch readied: only the log hears of it.
      else this.announceCancelled(t, step, 'superseded', meta);
      step.status = 'cancelled';
      step.deadlineAt = null;
      step.notBefore = null;
      step.completedAt = new Date();
      t.touch(step);
    }
    for (const spec of decision.dispatch) {
      const step: WorkflowStepEntity = {
        workflowId: workflow.id,
        stepId: spec.stepId,
        position: t.steps.length,
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
      };
      t.steps.push(step);
      this.dispatchAttempt(t, step, spec, 1, meta);
    }
    if (!decision.outcome) return;
    t.workflowFinished = true;
    if (decision.outcome.status === 'completed') {
      workflow.status = 'completed';
      workflow.output = toStoredJson(decision.outcome.output);
      t.emit(workflowCompleted, { workflowId: workflow.id, output: decision.outcome.output }, meta);
      return;
    }
    workflow.status = 'failed';
    workflow.error = { code: decision.outcome.error.code, message: decision.outcome.error.message };
    t.emit(
      workflowFailed,
      {
        workflowId: workflow.id,
        stepId: decision.outcome.stepId,
        error: decision.outcome.error,
      },
      meta,
    );
  }

  private dispatchAttempt(t: Transition, step: WorkflowStepEntity, spec: NodeSpec, attempt: number, meta: EnvelopeMeta): void {
    step.attempt = attempt;
    step.taskId = randomUUID();
    step.notBefore = null;
    step.agentId = null;
    step.status = 'pending';
    this.assign(t, step, spec, meta);
  }

  /**
   * Sends the step's open attempt to the best eligible agent, or parks it as
   * waiting_for_agent with the reason (the timer retries as agents free up,
   * until the wait deadline). The task id stays the same across reassignments,
   * so agents' effects stay once. The reservation is queued and made with the
   * transaction's others when it writes; `settled` learns the outcome.
   */
  private assign(
    t: Transition,
    step: WorkflowStepEntity,
    spec: NodeSpec,
    meta: EnvelopeMeta,
    exclude: ReadonlySet<string> = new Set(),
    settled?: (assigned: boolean) => void,
  ): void {
    const { workflow } = t;
    const taskId = step.taskId ?? randomUUID();
    step.taskId = taskId;
    t.touch(step);
    const stepMeta = { ...meta, stepId: step.stepId };
    // The choice is made when the transaction reserves agents, outside this context: the route span rejoins it.
    const parent = context.active();
    const requestedAt = performance.timeOrigin + performance.now();
    const routed = {
      [SPAN_ATTRIBUTES.workflowId]: workflow.id,
      [SPAN_ATTRIBUTES.stepId]: step.stepId,
      [SPAN_ATTRIBUTES.taskId]: taskId,
      [SPAN_ATTRIBUTES.attempt]: step.attempt,
      [SPAN_ATTRIBUTES.capability]: spec.capability,
      [SPAN_ATTRIBUTES.excluded]: exclude.size,
    };
    t.assignments.request(spec, exclude, (choice) =>
      recordRoute(
        parent,
        requestedAt,
        'reason' in choice
          ? { ...routed, [SPAN_ATTRIBUTES.routeOutcome]: 'waiting_for_agent', [SPAN_ATTRIBUTES.routeReason]: choice.reason }
          : { ...routed, [SPAN_ATTRIBUTES.routeOutcome]: 'assigned', [SPAN_ATTRIBUTES.agentId]: choice.agentId },
        choice.policy,
        () => this.applyChoice(t, { step, spec, taskId, meta: stepMeta }, choice, settled),
      ),
    );
  }

  /** Parks the step with the reason, or dispatches its task to the chosen agent. */
  private applyChoice(
    t: Transition,
    { step, spec, taskId, meta: stepMeta }: { step: WorkflowStepEntity; spec: NodeSpec; taskId: string; meta: EnvelopeMeta },
    choice: Assignment,
    settled: ((assigned: boolean) => void) | undefined,
  ): void {
    const { workflow } = t;
    // Choices arrive when the transaction writes, after every result of its batch was applied: a later one may have
    // cancelled this step, started another attempt of it or ended the workflow. Such a choice is dropped.
    const open = step.status === 'pending' || step.status === 'waiting_for_agent';
    if (workflow.status !== 'running' || !open || step.taskId !== taskId) {
      settled?.(false);
      return;
    }
    const now = new Date();
    if ('reason' in choice) {
      const firstWait = step.status !== 'waiting_for_agent';
      step.status = 'waiting_for_agent';
      step.agentId = null;
      step.waitReason = choice.reason;
      if (firstWait) {
        step.dispatchedAt = now;
        step.deadlineAt = new Date(now.getTime() + (workflow.definition.agentWaitTimeoutMs ?? this.config.agentWaitTimeoutMs));
        t.emit(
          stepWaitingForAgent,
          {
            workflowId: workflow.id,
            stepId: step.stepId,
            taskId,
            attempt: step.attempt,
            capability: spec.capability,
            reason: choice.reason,
            waitUntil: step.deadlineAt.toISOString(),
          },
          stepMeta,
        );
      }
      settled?.(false);
      return;
    }
    const timeoutMs = spec.timeoutMs ?? this.config.defaultStepTimeoutMs;
    step.status = 'dispatched';
    step.agentId = choice.agentId;
    step.waitReason = null;
    step.dispatchedAt = now;
    step.deadlineAt = new Date(now.getTime() + timeoutMs);
    t.emit(
      taskAssigned,
      {
        taskId,
        workflowId: workflow.id,
        stepId: step.stepId,
        attempt: step.attempt,
        capability: spec.capability,
        agentId: choice.agentId,
        input: spec.input,
        timeoutMs,
        ...(spec.scopes ? { scopes: spec.scopes } : {}),
      },
      { ...stepMeta, agentId: choice.agentId },
    );
    t.emit(
      stepDispatched,
      {
        workflowId: workflow.id,
        stepId: step.stepId,
        taskId,
        attempt: step.attempt,
        capability: spec.capability,
        input: spec.input,
        agentId: choice.agentId,
      },
      stepMeta,
    );
    settled?.(true);
  }

  /**
   * Steps waiting for an agent: assigned when one is eligible, failed when their wait deadline passed. Only steps
   * whose capability some live agent offers are tried (and those past their deadline): otherwise the oldest `limit`
   * steps of a capability nobody serves would fill every pass, and later steps would wait behind them for nothing.
   */
  async assignWaiting(limit = 200): Promise<number> {
    const waiting: Array<{ workflowId: string; stepId: string }> = await this.dataSource.query(
      `SELECT s.workflow_id AS "workflowId", s.step_id AS "stepId" FROM ${this.table('workflow_steps')} s
        WHERE s.status = 'waiting_for_agent'
          AND (s.deadline_at <= now() OR EXISTS (
                SELECT 1 FROM ${this.table('agents')} a
                 WHERE a.capabilities @> ARRAY[s.capability]
                   AND a.last_seen_at >= now() - make_interval(secs => $2::double precision / 1000)))
        ORDER BY s.dispatched_at LIMIT $1`,
      [limit, this.config.agentTimeoutMs],
    );
    let assigned = 0;
    for (const { workflowId, stepId } of waiting) {
      await this.inTransaction((manager) =>
        this.transition(manager, workflowId, 'assign waiting step', async (t) => {
          const step = t.find(stepId);
          if (!step || step.status !== 'waiting_for_agent' || !step.spec) return;
          const meta = this.own(t.workflow);
          if (step.deadlineAt && step.deadlineAt <= new Date()) {
            this.attemptFailed(
              t,
              step,
              {
                code: 'no_eligible_agent',
                message: `no eligible agent before the wait deadline: ${step.waitReason ?? 'unknown'}`,
                retryable: false,
              },
              meta,
            );
            return;
          }
          this.assign(t, step, step.spec, meta, new Set(), (ok) => {
            if (ok) assigned += 1;
          });
        }),
      );
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
      await this.inTransaction((manager) =>
        this.transition(manager, workflowId, 'reassign from dead agent', async (t) => {
          const step = t.find(stepId);
          if (!step || step.status !== 'dispatched' || !step.agentId || !deadSet.has(step.agentId) || !step.spec || !step.taskId) return;
          const stepMeta = { ...this.own(t.workflow), stepId };
          const fromAgentId = step.agentId;
          const ref = { taskId: step.taskId, workflowId, stepId, attempt: step.attempt };
          t.emit(taskCancelRequested, { ...ref, agentId: fromAgentId, reason: 'superseded' }, stepMeta);
          const reason = `agent ${fromAgentId} missed heartbeats for ${this.config.agentTimeoutMs} ms`;
          t.emit(stepReassigned, { ...ref, fromAgentId, reason }, stepMeta);
          step.status = 'pending';
          this.assign(t, step, step.spec, this.own(t.workflow), deadSet, (assigned) => {
            this.logger.log({
              msg: 'task of a dead agent reassigned',
              workflowId,
              stepId,
              fromAgentId,
              toAgentId: assigned ? step.agentId : null,
            });
          });
          moved += 1;
        }),
      );
    }
    return moved;
  }

  /** A failed or timed-out attempt: retried after a backoff while the policy allows, else the step fails. */
  private attemptFailed(t: Transition, step: WorkflowStepEntity, error: ErrorInfo, meta: EnvelopeMeta): void {
    const stepMeta = { ...meta, stepId: step.stepId };
    t.metrics.attemptEnded(step, error.code);
    t.emit(
      stepFailed,
      {
        workflowId: step.workflowId,
        stepId: step.stepId,
        taskId: step.taskId ?? randomUUID(),
        attempt: step.attempt,
        error,
      },
      stepMeta,
    );
    const retry = step.spec?.retry ?? {
      maxAttempts: this.config.maxAttempts,
      backoffMs: this.config.retryBackoffMs,
      backoffMultiplier: 2,
    };
    step.deadlineAt = null;
    step.error = error;
    t.touch(step);
    if (error.retryable && step.attempt < retry.maxAttempts && step.spec) {
      const delay = Math.round(retry.backoffMs * retry.backoffMultiplier ** (step.attempt - 1));
      step.status = 'retry_wait';
      step.notBefore = new Date(Date.now() + delay);
      t.emit(
        stepRetryScheduled,
        {
          workflowId: step.workflowId,
          stepId: step.stepId,
          nextAttempt: step.attempt + 1,
          notBefore: step.notBefore.toISOString(),
          error,
        },
        stepMeta,
      );
      return;
    }
    step.status = 'failed';
    step.completedAt = new Date();
    step.completionOrder = t.nextCompletionOrder();
    this.advance(t, meta);
  }

  private cancelAttempt(t: Transition, step: WorkflowStepEntity, reason: CancelReason, meta: EnvelopeMeta): void {
    if (!step.taskId) return;
    const ref = { taskId: step.taskId, workflowId: step.workflowId, stepId: step.stepId, attempt: step.attempt };
    t.emit(taskCancelRequested, { ...ref, ...(step.agentId ? { agentId: step.agentId } : {}), reason }, { ...meta, stepId: step.stepId });
    this.announceCancelled(t, step, reason, meta);
  }

  private announceCancelled(t: Transition, step: WorkflowStepEntity, reason: CancelReason, meta: EnvelopeMeta): void {
    if (!step.taskId) return;
    const ref = { taskId: step.taskId, workflowId: step.workflowId, stepId: step.stepId, attempt: step.attempt };
    t.emit(stepCancelled, { ...ref, reason }, { ...meta, stepId: step.stepId });
  }

  /** The step row if `taskId` is its current, still-open attempt; stale or duplicate results get undefined. */
  private currentAttempt(t: Transition, stepId: string, taskId: string): WorkflowStepEntity | undefined {
    const step = t.find(stepId);
    // A result for the open task id counts even if the task was parked for reassignment meanwhile.
    if (!step || step.taskId !== taskId || (step.status !== 'dispatched' && step.status !== 'waiting_for_agent')) {
      this.logger.warn({ msg: 'stale task result ignored', workflowId: t.workflow.id, stepId, taskId });
      return undefined;
    }
    return step;
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
