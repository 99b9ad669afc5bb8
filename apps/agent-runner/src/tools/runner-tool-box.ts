import { Logger } from '@nestjs/common';
import { SpanStatusCode } from '@opentelemetry/api';
import { z } from 'zod';
import { KafkaBus, RequestTimeoutError } from '@baton/bus';
import { withSpan } from '@baton/telemetry';
import {
  actionProposed,
  agentToolCalled,
  contextFactRecorded,
  contextQueryAnswered,
  contextQueryRequested,
  contextQuerySchema,
  createEnvelope,
  describeIssues,
  factBodySchema,
  humanQuestionAnswered,
  humanQuestionAsked,
  identifierSchema,
  jsonValueSchema,
  workflowRequested,
  MAX_HUMAN_QUESTION_CHARS,
  MAX_HUMAN_QUESTION_CONTEXT_CHARS,
  type JsonValue,
} from '@baton/contracts';
import type { ToolCall, ToolDefinition } from '@baton/llm-gateway';
import { agentTaskMeta } from '../tasks/agent-task-meta';
import { toolEffectId } from '../tasks/result-id';
import type { AgentDefinition } from '../agents/agent-definition';
import type { AssignedTask, ToolBox, ToolResult } from '../tasks/agent-executor';
import { TaskEndedError, answerToolResult, questionWaitMs, untilAborted } from './ask-human';
import { TOOL_NAMES, type ToolName } from './tool-names';

interface ToolContext {
  agent: AgentDefinition;
  task: AssignedTask;
  signal: AbortSignal;
  /** Epoch ms when the task's attempt is abandoned; waits never outlive it. */
  deadlineAt?: number;
  /** The call's place among the attempt's tool calls: with the task id and attempt, it names the call's effect. */
  ordinal: number;
}

export interface RunnerToolBoxOptions {
  contextQueryTimeoutMs?: number;
  /** Upper bound of an ask_human wait (the task's deadline may cut it shorter). */
  askHumanTimeoutMs?: number;
}

type Handled = { outcome: 'allowed'; result: JsonValue } | { outcome: 'denied' | 'failed'; reason: string };
/** What became of a tool call, as audited (agent.tool_called) and traced. */
type ToolOutcome = 'allowed' | 'denied' | 'invalid_arguments' | 'failed';

interface ToolSpec {
  description: string;
  /** JSON Schema shown to the model. */
  parameters: Record<string, unknown>;
  /** The same shape enforced at run time: what the model sends is never trusted. */
  arguments: z.ZodType;
  handle(args: never, context: ToolContext): Promise<Handled>;
}

const entityRefJson = {
  type: 'object',
  properties: { kind: { type: 'string', description: 'PascalCase entity kind, e.g. Service' }, id: { type: 'string' } },
  required: ['kind', 'id'],
};

/**
 * The tools an agent definition may grant. Every call is audited
 * (`agent.tool_called` on baton.audit): allowed, denied (not granted, scope
 * missing), failed (no answer in time, the service refused) or invalid arguments; a denial goes back
 * to the model as a clear tool error, never as an exception.
 */
export class RunnerToolBox implements ToolBox {
  private readonly logger = new Logger(RunnerToolBox.name);
  private readonly specs: Record<ToolName, ToolSpec>;
  private readonly contextQueryTimeoutMs: number;
  private readonly askHumanTimeoutMs: number;

  constructor(
    private readonly bus: KafkaBus,
    private readonly source: string,
    options: RunnerToolBoxOptions = {},
  ) {
    this.contextQueryTimeoutMs = options.contextQueryTimeoutMs ?? 10_000;
    this.askHumanTimeoutMs = options.askHumanTimeoutMs ?? 15 * 60_000;
    this.specs = {
      query_context: {
        description:
          'Query the shared organisational context graph: the neighbourhood of an entity, recent facts, changes since a time, or a text search. Only facts your scopes allow are returned.',
        parameters: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: ['neighbourhood', 'recent', 'changed', 'search'] },
            entity: entityRefJson,
            hops: { type: 'integer', minimum: 1, maximum: 4 },
            windowMs: { type: 'integer', minimum: 1 },
            since: { type: 'string', description: 'ISO 8601 date-time' },
            text: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 500 },
          },
          required: ['kind'],
        },
        arguments: contextQuerySchema,
        handle: (args: z.infer<typeof contextQuerySchema>, context) => this.queryContext(args, context),
      },
      publish_fact: {
        description:
          'Record a fact about an entity in the shared context (attribute/value, relationship, or text) with your confidence. You may only scope it to scopes you hold.',
        parameters: {
          type: 'object',
          properties: {
            about: entityRefJson,
            attribute: { type: 'string' },
            value: {},
            relationship: { type: 'object', properties: { type: { type: 'string' }, to: entityRefJson }, required: ['type', 'to'] },
            text: { type: 'string' },
            confidence: { type: 'number', minimum: 0, maximum: 1 },
            scopes: { type: 'array', items: { type: 'string' } },
          },
          required: ['about', 'confidence'],
        },
        arguments: factBodySchema,
        handle: (args: z.infer<typeof factBodySchema>, context) => this.publishFact(args, context),
      },
      propose_action: {
        description:
          'Propose an action on a shared resource (ticket, config, stakeholder). You never change it directly: the coordinator orders proposals per resource, applies policy, and sends high-impact or low-confidence ones to a human.',
        parameters: {
          type: 'object',
          properties: {
            resource: { type: 'string', description: 'resource id, e.g. ticket:INC-42' },
            action: { type: 'string', description: 'e.g. update, notify, rollback' },
            parameters: { type: 'object' },
            impact: { type: 'string', enum: ['low', 'medium', 'high'] },
            confidence: { type: 'number', minimum: 0, maximum: 1 },
            rationale: { type: 'string' },
          },
          required: ['resource', 'action'],
        },
        arguments: proposeActionArguments,
        handle: (args: z.infer<typeof proposeActionArguments>, context) => this.proposeAction(args, context),
      },
      delegate_subtask: {
        description:
          'Delegate a subtask to whichever agent has a capability: it is started as a workflow of its own, routed by the router and subject to its policies. Its result is not awaited in this task.',
        parameters: {
          type: 'object',
          properties: { capability: { type: 'string' }, input: {} },
          required: ['capability', 'input'],
        },
        arguments: z.object({ capability: identifierSchema, input: jsonValueSchema }).strict(),
        handle: (args: { capability: string; input: JsonValue }, context) => this.delegate(args, context),
      },
      ask_human: {
        description:
          'Ask a human a question through the agent inbox and wait for the answer (bounded: if nobody answers in time you get an error). The human may decline.',
        parameters: {
          type: 'object',
          properties: {
            question: { type: 'string', maxLength: MAX_HUMAN_QUESTION_CHARS },
            context: { type: 'string', description: 'what the human needs to know to answer', maxLength: MAX_HUMAN_QUESTION_CONTEXT_CHARS },
            options: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 20, description: 'suggested answers' },
          },
          required: ['question'],
        },
        arguments: askHumanArguments,
        handle: (args: z.infer<typeof askHumanArguments>, context) => this.askHuman(args, context),
      },
    };
  }

  definitionsFor(agent: AgentDefinition): ToolDefinition[] {
    return agent.tools.map((name) => ({ name, description: this.specs[name].description, parameters: this.specs[name].parameters }));
  }

  /** Carries out a tool call (an agent's action) in a span of the task's trace; every outcome is audited. */
  invoke(call: ToolCall, context: ToolContext): Promise<ToolResult> {
    return withSpan(
      `execute_tool ${call.name.slice(0, 100)}`,
      {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': call.name.slice(0, 200),
        'gen_ai.tool.call.id': call.id,
        'baton.agent.id': context.agent.id,
        'baton.task.id': context.task.taskId,
        'baton.workflow.id': context.task.workflowId,
      },
      async (span) => {
        const result = await this.invokeAudited(call, context);
        span.setAttribute('baton.tool.outcome', result.outcome);
        if (result.outcome === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: result.toolResult.content.slice(0, 500) });
        return result.toolResult;
      },
    );
  }

  private async invokeAudited(call: ToolCall, context: ToolContext): Promise<{ outcome: ToolOutcome; toolResult: ToolResult }> {
    const sent: JsonValue = call.arguments === undefined ? call.rawArguments : (call.arguments as JsonValue);
    if (!(TOOL_NAMES as readonly string[]).includes(call.name) || !context.agent.tools.includes(call.name as ToolName)) {
      const reason = `tool "${call.name}" is not granted to agent ${context.agent.id}`;
      await this.audit(call.name, 'denied', reason, sent, context);
      return { outcome: 'denied', toolResult: { content: `denied: ${reason}`, isError: true } };
    }
    const spec = this.specs[call.name as ToolName];
    if (call.arguments === undefined) {
      const reason = 'arguments are not valid JSON';
      await this.audit(call.name, 'invalid_arguments', reason, sent, context);
      return { outcome: 'invalid_arguments', toolResult: { content: `invalid arguments: ${reason}`, isError: true } };
    }
    const parsed = spec.arguments.safeParse(call.arguments);
    if (!parsed.success) {
      const reason = describeIssues(parsed.error).join('; ');
      await this.audit(call.name, 'invalid_arguments', reason, sent, context);
      return { outcome: 'invalid_arguments', toolResult: { content: `invalid arguments: ${reason}`, isError: true } };
    }
    let handled: Handled;
    try {
      handled = await spec.handle(parsed.data as never, context);
    } catch (error) {
      handled = { outcome: 'failed', reason: error instanceof Error ? error.message : String(error) };
    }
    if (handled.outcome === 'allowed') {
      await this.audit(call.name, 'allowed', undefined, sent, context);
      return { outcome: 'allowed', toolResult: { content: JSON.stringify(handled.result), isError: false } };
    }
    await this.audit(call.name, handled.outcome, handled.reason, sent, context);
    return { outcome: handled.outcome, toolResult: { content: `${handled.outcome}: ${handled.reason}`, isError: true } };
  }

  private async queryContext(query: z.infer<typeof contextQuerySchema>, { agent, task }: ToolContext): Promise<Handled> {
    const request = createEnvelope(
      contextQueryRequested,
      { query, scopes: [...agent.scopes], caller: agent.id },
      agentTaskMeta(this.source, agent, task),
    );
    const reply = await this.bus.request(contextQueryRequested, request, { timeoutMs: this.contextQueryTimeoutMs });
    const answer = contextQueryAnswered.payload.parse(reply.envelope.payload);
    if (!answer.ok) return { outcome: 'failed', reason: answer.error?.message ?? 'context query failed' };
    return { outcome: 'allowed', result: { entities: answer.entities, edges: answer.edges, facts: answer.facts } as JsonValue };
  }

  private async askHuman(args: z.infer<typeof askHumanArguments>, context: ToolContext): Promise<Handled> {
    const { agent, task, signal, deadlineAt } = context;
    const waitMs = questionWaitMs(this.askHumanTimeoutMs, deadlineAt, Date.now());
    if (waitMs === 0) return { outcome: 'failed', reason: 'the task has no time left to wait for a human' };
    const questionId = effectId(context, 'ask_human');
    const question = createEnvelope(
      humanQuestionAsked,
      {
        questionId,
        taskId: task.taskId,
        workflowId: task.workflowId,
        stepId: task.stepId,
        agentId: agent.id,
        team: agent.team,
        question: args.question,
        ...(args.context !== undefined ? { context: args.context } : {}),
        ...(args.options !== undefined ? { options: args.options } : {}),
        expiresAt: new Date(Date.now() + waitMs).toISOString(),
      },
      agentTaskMeta(this.source, agent, task, questionId),
    );
    let reply: Awaited<ReturnType<KafkaBus['request']>>;
    try {
      reply = await untilAborted(this.bus.request(humanQuestionAsked, question, { timeoutMs: waitMs }), signal);
    } catch (error) {
      if (error instanceof RequestTimeoutError)
        return { outcome: 'failed', reason: `no human answered within ${waitMs} ms (question ${questionId})` };
      if (error instanceof TaskEndedError)
        return { outcome: 'failed', reason: `the task ended while waiting for a human (question ${questionId})` };
      throw error;
    }
    if (reply.envelope.type !== humanQuestionAnswered.type) {
      return { outcome: 'failed', reason: `the inbox replied with ${reply.envelope.type}, not ${humanQuestionAnswered.type}` };
    }
    const answer = humanQuestionAnswered.payload.parse(reply.envelope.payload);
    if (answer.questionId !== questionId) {
      return { outcome: 'failed', reason: `the inbox answered question ${answer.questionId}, not ${questionId}` };
    }
    this.logger.log({
      msg: 'human answered',
      questionId,
      taskId: task.taskId,
      agentId: agent.id,
      answeredBy: answer.answeredBy,
      declined: answer.declined === true,
    });
    return { outcome: 'allowed', result: answerToolResult(answer) };
  }

  private async proposeAction(args: z.infer<typeof proposeActionArguments>, context: ToolContext): Promise<Handled> {
    const { agent, task } = context;
    const envelope = createEnvelope(
      actionProposed,
      {
        ...args,
        parameters: args.parameters ?? {},
        impact: args.impact ?? 'medium',
        taskId: task.taskId,
        workflowId: task.workflowId,
        stepId: task.stepId,
        agentId: agent.id,
      },
      agentTaskMeta(this.source, agent, task, effectId(context, 'propose_action')),
    );
    await this.bus.publish(actionProposed, envelope);
    return {
      outcome: 'allowed',
      result: {
        proposed: true,
        proposalId: envelope.id,
        status: 'submitted to the coordinator; you will not see the decision in this task',
      },
    };
  }

  private async delegate(args: { capability: string; input: JsonValue }, context: ToolContext): Promise<Handled> {
    const { agent, task } = context;
    if (agent.capabilities.includes(args.capability)) {
      return { outcome: 'denied', reason: `agent ${agent.id} has capability ${args.capability} itself; delegating it could loop` };
    }
    // The router starts a workflow id once: a re-run of this call requests the same one.
    const workflowId = effectId(context, 'delegate_subtask');
    await this.bus.publish(
      workflowRequested,
      createEnvelope(
        workflowRequested,
        {
          workflowId,
          definition: {
            name: `delegated-${args.capability}`,
            pattern: 'sequential',
            steps: [{ id: 'delegated', capability: args.capability }],
          },
          input: args.input,
          requestedBy: `agent:${agent.id}`,
        },
        // Correlated with the delegating workflow, so one trace and one audit trail cover both.
        { id: workflowId, source: this.source, correlationId: task.workflowId, workflowId, agentId: agent.id, team: agent.team },
      ),
    );
    return { outcome: 'allowed', result: { delegated: true, workflowId, status: 'requested from the router' } };
  }

  private async publishFact(fact: z.infer<typeof factBodySchema>, context: ToolContext): Promise<Handled> {
    const { agent, task } = context;
    const missing = (fact.scopes ?? []).filter((scope) => !agent.scopes.includes(scope));
    if (missing.length > 0) {
      return { outcome: 'denied', reason: `agent ${agent.id} does not hold scope(s) ${missing.join(', ')} it tried to write` };
    }
    // The context graph records a fact once per envelope id.
    const envelope = createEnvelope(contextFactRecorded, fact, agentTaskMeta(this.source, agent, task, effectId(context, 'publish_fact')));
    await this.bus.publish(contextFactRecorded, envelope);
    return { outcome: 'allowed', result: { recorded: true, factId: envelope.id } };
  }

  private async audit(
    tool: string,
    outcome: ToolOutcome,
    reason: string | undefined,
    args: JsonValue,
    { agent, task }: ToolContext,
  ): Promise<void> {
    if (outcome !== 'allowed')
      this.logger.warn({ msg: 'tool call not carried out', tool, outcome, reason, agentId: agent.id, taskId: task.taskId });
    await this.bus.publish(
      agentToolCalled,
      createEnvelope(
        agentToolCalled,
        {
          taskId: task.taskId,
          workflowId: task.workflowId,
          stepId: task.stepId,
          agentId: agent.id,
          tool: tool.slice(0, 200) || '(empty)',
          outcome,
          ...(reason !== undefined ? { reason: reason.slice(0, 2_000) } : {}),
          arguments: args,
        },
        agentTaskMeta(this.source, agent, task),
      ),
    );
  }
}

const proposeActionArguments = z
  .object({
    resource: identifierSchema,
    action: identifierSchema,
    parameters: z.record(z.string(), jsonValueSchema).optional(),
    impact: z.enum(['low', 'medium', 'high']).optional(),
    confidence: z.number().min(0).max(1).optional(),
    rationale: z.string().max(4_000).optional(),
  })
  .strict();

const askHumanArguments = z
  .object({
    question: z.string().min(1).max(MAX_HUMAN_QUESTION_CHARS),
    context: z.string().min(1).max(MAX_HUMAN_QUESTION_CONTEXT_CHARS).optional(),
    options: z.array(z.string().min(1).max(500)).min(1).max(20).optional(),
  })
  .strict();

function effectId({ task, ordinal }: ToolContext, tool: ToolName): string {
  return toolEffectId(task.taskId, task.attempt, ordinal, tool);
}
