import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  createEnvelope,
  stepCompleted,
  stepDispatched,
  stepFailed,
  taskAssigned,
  taskCompleted,
  taskFailed,
  workflowCompleted,
  workflowFailed,
  workflowStarted,
  type Envelope,
  type EnvelopeMeta,
  type JsonValue,
  type MessageContract,
  type PayloadOf,
  type StepDefinition,
  type WorkflowDefinition,
} from '@baton/contracts';
import { Inbox, Outbox } from '@baton/persistence';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { fromStoredJson, toStoredJson } from '../persistence/stored-json';
import { WorkflowStepEntity } from '../persistence/workflow-step.entity';
import { WorkflowEntity } from '../persistence/workflow.entity';
import { stepAfter, stepInput } from './sequential-plan';
import { WorkflowNotFoundError } from './workflow-errors';

const SOURCE = 'router';

export interface StartWorkflow {
  workflowId: string;
  definition: WorkflowDefinition;
  input: JsonValue;
  requestedBy: string;
  /** The message that asked for it, when it came over Kafka. */
  cause?: Envelope;
}

type TaskCompletedPayload = PayloadOf<typeof taskCompleted>;
type TaskFailedPayload = PayloadOf<typeof taskFailed>;

/**
 * Workflow state transitions. Each one is a single transaction that changes the
 * rows and enqueues the messages it causes (outbox); consumed messages are
 * recorded in the inbox in that same transaction, so redelivery is harmless.
 */
@Injectable()
export class WorkflowsService {
  private readonly logger = new Logger(WorkflowsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly inbox: Inbox,
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
      const step = await this.currentAttempt(manager, result.workflowId, result.stepId, result.taskId);
      if (!step) return;
      const workflow = await manager.findOneByOrFail(WorkflowEntity, { id: result.workflowId });
      const meta = this.causedBy(envelope, workflow);

      step.status = 'completed';
      step.output = toStoredJson(result.output);
      step.confidence = result.confidence;
      step.agentId = result.agentId;
      step.completedAt = new Date();
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

      const next = stepAfter(workflow.definition, step.stepId);
      if (next) {
        await this.dispatch(manager, workflow, next, stepInput(next, result.output), 1, meta);
        return;
      }
      workflow.status = 'completed';
      workflow.output = toStoredJson(result.output);
      await manager.save(workflow);
      await this.emit(manager, workflowCompleted, { workflowId: workflow.id, output: result.output }, meta);
    });
  }

  async onTaskFailed(envelope: Envelope<TaskFailedPayload>): Promise<void> {
    await this.inbox.handleOnce(this.dataSource, 'router.task-results', envelope, async (manager) => {
      const failure = envelope.payload;
      const step = await this.currentAttempt(manager, failure.workflowId, failure.stepId, failure.taskId);
      if (!step) return;
      const workflow = await manager.findOneByOrFail(WorkflowEntity, { id: failure.workflowId });
      const meta = this.causedBy(envelope, workflow);
      await this.emit(manager, stepFailed, {
        workflowId: step.workflowId,
        stepId: step.stepId,
        taskId: failure.taskId,
        attempt: step.attempt,
        error: failure.error,
      }, { ...meta, stepId: step.stepId });

      const definition = workflow.definition.steps.find((candidate) => candidate.id === step.stepId);
      if (failure.error.retryable && step.attempt < this.config.maxAttempts && definition && step.input !== null) {
        await this.dispatch(manager, workflow, definition, fromStoredJson(step.input), step.attempt + 1, meta);
        return;
      }
      step.status = 'failed';
      step.error = failure.error;
      step.completedAt = new Date();
      await manager.save(step);
      workflow.status = 'failed';
      workflow.error = { code: failure.error.code, message: failure.error.message };
      await manager.save(workflow);
      await this.emit(manager, workflowFailed, { workflowId: workflow.id, stepId: step.stepId, error: failure.error }, meta);
    });
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
      input: toStoredJson(command.input),
      status: 'running',
      output: null,
      error: null,
      correlationId: command.cause?.correlationId ?? command.workflowId,
      requestedBy: command.requestedBy,
    });
    await manager.save(workflow);
    await manager.save(
      command.definition.steps.map((step, position) =>
        manager.create(WorkflowStepEntity, {
          workflowId: workflow.id,
          stepId: step.id,
          position,
          capability: step.capability,
          status: 'pending',
          attempt: 0,
          taskId: null,
          input: null,
          output: null,
          confidence: null,
          agentId: null,
          error: null,
          dispatchedAt: null,
          completedAt: null,
        }),
      ),
    );
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
    const first = command.definition.steps[0];
    if (first) await this.dispatch(manager, workflow, first, stepInput(first, command.input), 1, meta);
  }

  private async dispatch(
    manager: EntityManager,
    workflow: WorkflowEntity,
    step: StepDefinition,
    input: JsonValue,
    attempt: number,
    meta: EnvelopeMeta,
  ): Promise<void> {
    const taskId = randomUUID();
    await manager.update(
      WorkflowStepEntity,
      { workflowId: workflow.id, stepId: step.id },
      { status: 'dispatched', attempt, taskId, input: toStoredJson(input), dispatchedAt: new Date() },
    );
    const stepMeta = { ...meta, stepId: step.id };
    await this.emit(manager, taskAssigned, {
      taskId,
      workflowId: workflow.id,
      stepId: step.id,
      attempt,
      capability: step.capability,
      input,
      timeoutMs: step.timeoutMs ?? this.config.defaultStepTimeoutMs,
    }, stepMeta);
    await this.emit(manager, stepDispatched, {
      workflowId: workflow.id,
      stepId: step.id,
      taskId,
      attempt,
      capability: step.capability,
      input,
    }, stepMeta);
  }

  /** The step row if `taskId` is its current, still-open attempt; stale or duplicate results get undefined. */
  private async currentAttempt(
    manager: EntityManager,
    workflowId: string,
    stepId: string,
    taskId: string,
  ): Promise<WorkflowStepEntity | undefined> {
    const step = await manager.findOne(WorkflowStepEntity, {
      where: { workflowId, stepId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!step || step.taskId !== taskId || step.status !== 'dispatched') {
      this.logger.warn({ msg: 'stale task result ignored', workflowId, stepId, taskId });
      return undefined;
    }
    return step;
  }

  private causedBy(cause: Envelope, workflow: WorkflowEntity): EnvelopeMeta {
    return { source: SOURCE, correlationId: workflow.correlationId, causationId: cause.id, workflowId: workflow.id };
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
