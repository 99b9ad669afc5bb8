import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { KafkaBus } from '@baton/bus';
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
  identifierSchema,
  jsonValueSchema,
  workflowRequested,
  type JsonValue,
} from '@baton/contracts';
import type { ToolCall, ToolDefinition } from '@baton/llm-gateway';
import type { AgentDefinition } from '../agents/agent-definition';
import type { AssignedTask, ToolBox, ToolResult } from '../tasks/agent-executor';
import { TOOL_NAMES, type ToolName } from './tool-names';

interface ToolContext {
  agent: AgentDefinition;
  task: AssignedTask;
  signal: AbortSignal;
}

type Handled = { outcome: 'allowed'; result: JsonValue } | { outcome: 'denied' | 'failed'; reason: string };

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
 * missing, no service to carry it out) or invalid arguments; a denial goes back
 * to the model as a clear tool error, never as an exception.
 */
export class RunnerToolBox implements ToolBox {
  private readonly logger = new Logger(RunnerToolBox.name);
  private readonly specs: Record<ToolName, ToolSpec>;

  constructor(
    private readonly bus: KafkaBus,
    private readonly source: string,
    private readonly contextQueryTimeoutMs = 10_000,
  ) {
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
        description: 'Ask a human a question through the agent inbox.',
        parameters: { type: 'object', properties: { question: { type: 'string' } }, required: ['question'] },
        arguments: z.object({ question: z.string().min(1).max(4_000) }).strict(),
        handle: async () => unavailable('ask_human', 'the approvals inbox'),
      },
    };
  }

  definitionsFor(agent: AgentDefinition): ToolDefinition[] {
    return agent.tools.map((name) => ({ name, description: this.specs[name].description, parameters: this.specs[name].parameters }));
  }

  async invoke(call: ToolCall, context: ToolContext): Promise<ToolResult> {
    const sent: JsonValue = call.arguments === undefined ? call.rawArguments : (call.arguments as JsonValue);
    if (!(TOOL_NAMES as readonly string[]).includes(call.name) || !context.agent.tools.includes(call.name as ToolName)) {
      const reason = `tool "${call.name}" is not granted to agent ${context.agent.id}`;
      await this.audit(call.name, 'denied', reason, sent, context);
      return { content: `denied: ${reason}`, isError: true };
    }
    const spec = this.specs[call.name as ToolName];
    if (call.arguments === undefined) {
      const reason = 'arguments are not valid JSON';
      await this.audit(call.name, 'invalid_arguments', reason, sent, context);
      return { content: `invalid arguments: ${reason}`, isError: true };
    }
    const parsed = spec.arguments.safeParse(call.arguments);
    if (!parsed.success) {
      const reason = describeIssues(parsed.error).join('; ');
      await this.audit(call.name, 'invalid_arguments', reason, sent, context);
      return { content: `invalid arguments: ${reason}`, isError: true };
    }
    let handled: Handled;
    try {
      handled = await spec.handle(parsed.data as never, context);
    } catch (error) {
      handled = { outcome: 'failed', reason: error instanceof Error ? error.message : String(error) };
    }
    if (handled.outcome === 'allowed') {
      await this.audit(call.name, 'allowed', undefined, sent, context);
      return { content: JSON.stringify(handled.result), isError: false };
    }
    await this.audit(call.name, handled.outcome, handled.reason, sent, context);
    return { content: `${handled.outcome}: ${handled.reason}`, isError: true };
  }

  private async queryContext(query: z.infer<typeof contextQuerySchema>, { agent, task }: ToolContext): Promise<Handled> {
    const request = createEnvelope(
      contextQueryRequested,
      { query, scopes: [...agent.scopes], caller: agent.id },
      { source: this.source, correlationId: task.workflowId, workflowId: task.workflowId, stepId: task.stepId, agentId: agent.id, team: agent.team },
    );
    const reply = await this.bus.request(contextQueryRequested, request, { timeoutMs: this.contextQueryTimeoutMs });
    const answer = contextQueryAnswered.payload.parse(reply.envelope.payload);
    if (!answer.ok) return { outcome: 'failed', reason: answer.error?.message ?? 'context query failed' };
    return { outcome: 'allowed', result: { entities: answer.entities, edges: answer.edges, facts: answer.facts } as JsonValue };
  }

  private async proposeAction(args: z.infer<typeof proposeActionArguments>, { agent, task }: ToolContext): Promise<Handled> {
    const envelope = createEnvelope(
      actionProposed,
      { ...args, parameters: args.parameters ?? {}, impact: args.impact ?? 'medium', taskId: task.taskId, workflowId: task.workflowId, stepId: task.stepId, agentId: agent.id },
      { source: this.source, correlationId: task.workflowId, workflowId: task.workflowId, stepId: task.stepId, agentId: agent.id, team: agent.team },
    );
    await this.bus.publish(actionProposed, envelope);
    return {
      outcome: 'allowed',
      result: { proposed: true, proposalId: envelope.id, status: 'submitted to the coordinator; you will not see the decision in this task' },
    };
  }

  private async delegate(args: { capability: string; input: JsonValue }, { agent, task }: ToolContext): Promise<Handled> {
    if (agent.capabilities.includes(args.capability)) {
      return { outcome: 'denied', reason: `agent ${agent.id} has capability ${args.capability} itself; delegating it could loop` };
    }
    const workflowId = randomUUID();
    await this.bus.publish(
      workflowRequested,
      createEnvelope(
        workflowRequested,
        {
          workflowId,
          definition: { name: `delegated-${args.capability}`, pattern: 'sequential', steps: [{ id: 'delegated', capability: args.capability }] },
          input: args.input,
          requestedBy: `agent:${agent.id}`,
        },
        // Correlated with the delegating workflow, so one trace and one audit trail cover both.
        { source: this.source, correlationId: task.workflowId, workflowId, agentId: agent.id, team: agent.team },
      ),
    );
    return { outcome: 'allowed', result: { delegated: true, workflowId, status: 'requested from the router' } };
  }

  private async publishFact(fact: z.infer<typeof factBodySchema>, { agent, task }: ToolContext): Promise<Handled> {
    const missing = (fact.scopes ?? []).filter((scope) => !agent.scopes.includes(scope));
    if (missing.length > 0) {
      return { outcome: 'denied', reason: `agent ${agent.id} does not hold scope(s) ${missing.join(', ')} it tried to write` };
    }
    const envelope = createEnvelope(contextFactRecorded, fact, {
      source: this.source,
      correlationId: task.workflowId,
      workflowId: task.workflowId,
      stepId: task.stepId,
      agentId: agent.id,
      team: agent.team,
    });
    await this.bus.publish(contextFactRecorded, envelope);
    return { outcome: 'allowed', result: { recorded: true, factId: envelope.id } };
  }

  private async audit(tool: string, outcome: 'allowed' | 'denied' | 'invalid_arguments' | 'failed', reason: string | undefined, args: JsonValue, { agent, task }: ToolContext): Promise<void> {
    if (outcome !== 'allowed') this.logger.warn({ msg: 'tool call not carried out', tool, outcome, reason, agentId: agent.id, taskId: task.taskId });
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
        { source: this.source, correlationId: task.workflowId, workflowId: task.workflowId, stepId: task.stepId, agentId: agent.id, team: agent.team },
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

function unavailable(tool: string, service: string): Handled {
  return { outcome: 'denied', reason: `${tool} is not available yet: ${service} does not accept it in this deployment` };
}
