import { Inject, Injectable, Logger } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import {
  createEnvelope,
  taskCompleted,
  taskFailed,
  type Envelope,
  type EnvelopeMeta,
  type PayloadOf,
  type taskAssigned,
} from '@baton/contracts';
import { withSpan } from '@baton/telemetry';
import { BUILTIN_AGENTS, agentFor } from '../agents/builtin-agents';
import { DETERMINISTIC_MODEL, deterministicAnswer } from '@baton/llm-gateway';
import { RUNNER_CONFIG, type RunnerConfig } from '../config/runner-config';
import { resultEnvelopeId } from './result-id';

type TaskAssignedPayload = PayloadOf<typeof taskAssigned>;

/** Executes assigned tasks on the hosted agents and publishes their results. */
@Injectable()
export class TasksService {
  private readonly logger = new Logger(TasksService.name);
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly bus: KafkaBus,
    @Inject(RUNNER_CONFIG) private readonly config: RunnerConfig,
  ) {}

  inFlightFor(agentId: string): number {
    return this.inFlight.get(agentId) ?? 0;
  }

  async execute(envelope: Envelope<TaskAssignedPayload>): Promise<void> {
    const task = envelope.payload;
    const meta: EnvelopeMeta = {
      id: resultEnvelopeId(task.taskId),
      source: `agent-runner/${this.config.instanceId}`,
      correlationId: envelope.correlationId,
      causationId: envelope.id,
      workflowId: task.workflowId,
      stepId: task.stepId,
    };
    const agent = agentFor(task.capability, BUILTIN_AGENTS);
    if (!agent) {
      this.logger.warn({ msg: 'no hosted agent has the capability', capability: task.capability, taskId: task.taskId });
      await this.bus.publish(
        taskFailed,
        createEnvelope(taskFailed, {
          taskId: task.taskId,
          workflowId: task.workflowId,
          stepId: task.stepId,
          attempt: task.attempt,
          agentId: `agent-runner/${this.config.instanceId}`,
          error: { code: 'no_agent_for_capability', message: `no agent has capability "${task.capability}"`, retryable: false },
        }, meta),
      );
      return;
    }

    this.inFlight.set(agent.id, this.inFlightFor(agent.id) + 1);
    try {
      const answer = await withSpan(
        `chat ${DETERMINISTIC_MODEL}`,
        {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': DETERMINISTIC_MODEL,
          'baton.agent.id': agent.id,
          'baton.task.id': task.taskId,
        },
        async (span) => {
          const result = deterministicAnswer(task.capability, task.input);
          span.setAttributes({
            'gen_ai.usage.input_tokens': result.inputTokens,
            'gen_ai.usage.output_tokens': result.outputTokens,
          });
          return result;
        },
      );
      await this.bus.publish(
        taskCompleted,
        createEnvelope(taskCompleted, {
          taskId: task.taskId,
          workflowId: task.workflowId,
          stepId: task.stepId,
          attempt: task.attempt,
          agentId: agent.id,
          output: answer.output,
          confidence: answer.confidence,
          usage: {
            model: DETERMINISTIC_MODEL,
            inputTokens: answer.inputTokens,
            outputTokens: answer.outputTokens,
            costUsd: 0,
          },
        }, { ...meta, agentId: agent.id, team: agent.team }),
      );
    } finally {
      this.inFlight.set(agent.id, this.inFlightFor(agent.id) - 1);
    }
  }
}
