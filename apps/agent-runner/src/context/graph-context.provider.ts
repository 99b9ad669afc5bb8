import { Logger } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import { withSpan } from '@baton/telemetry';
import {
  contextQueryAnswered,
  contextQueryRequested,
  createEnvelope,
  taskContextOf,
  type ContextQuery,
  type EntityRef,
  type PayloadOf,
} from '@baton/contracts';
import type { AgentDefinition } from '../agents/agent-definition';
import type { ContextInjectionConfig } from '../config/runner-config';
import type { AssignedTask, AttachedContext, ContextProvider } from '../tasks/agent-executor';
import { agentTaskMeta } from '../tasks/agent-task-meta';
import { rankContext, type Neighbourhood } from './context-ranking';

/** A task about more entities than this gets the context of the first ones: the bound is on facts anyway. */
const MAX_ENTITIES = 10;
/** Facts newer than the epoch: every fact, ordered by the graph most recent first. */
const SINCE_EVER = new Date(0).toISOString();

type Answer = PayloadOf<typeof contextQueryAnswered>;

/**
 * Asks the context graph, before a task's first model call, for the neighbourhood of the entities its input
 * names (the `input.entities` convention, shared with the graph's push), read with the agent's scopes, and
 * attaches the best facts that fit. Per entity two queries go out at once: `neighbourhood` for the relationships
 * (how far each entity is) and `changed` since ever for the facts within the same hops. A graph that is slow or
 * down only costs the task its context, after `timeoutMs`.
 */
export class GraphContextProvider implements ContextProvider {
  private readonly logger = new Logger('ContextInjection');

  constructor(
    private readonly bus: KafkaBus,
    private readonly source: string,
    private readonly config: ContextInjectionConfig,
  ) {}

  async contextFor(agent: AgentDefinition, task: AssignedTask): Promise<AttachedContext | undefined> {
    if (this.config.maxFacts === 0) return undefined;
    const about = taskContextOf(task.input);
    if (about === undefined) return undefined;
    const entities = about.entities.slice(0, MAX_ENTITIES);
    // The context access, in the task's trace: the graph's queries and answers are its children.
    return withSpan(
      'inject context',
      {
        'baton.agent.id': agent.id,
        'baton.task.id': task.taskId,
        'baton.workflow.id': task.workflowId,
        'baton.context.entities': entities.length,
      },
      async (span) => {
        const attached = await this.attach(entities, agent, task);
        span.setAttributes({ 'baton.context.facts': attached?.factIds.length ?? 0 });
        return attached;
      },
    );
  }

  private async attach(entities: readonly EntityRef[], agent: AgentDefinition, task: AssignedTask): Promise<AttachedContext | undefined> {
    const answers = await Promise.allSettled(entities.map((entity) => this.around(entity, agent, task)));
    const neighbourhoods: Neighbourhood[] = [];
    answers.forEach((answer, index) => {
      if (answer.status === 'fulfilled') neighbourhoods.push(answer.value);
      else
        this.logger.warn({
          msg: 'no context from the context graph; the task runs without it',
          taskId: task.taskId,
          agentId: agent.id,
          entity: entities[index],
          timeoutMs: this.config.timeoutMs,
          error: answer.reason instanceof Error ? answer.reason.message : String(answer.reason),
        });
    });
    if (neighbourhoods.length === 0) return undefined;
    const ranked = rankContext(neighbourhoods, this.config);
    this.logger.log({
      msg: 'context attached',
      taskId: task.taskId,
      agentId: agent.id,
      entities: entities.length,
      facts: ranked.factIds.length,
      bytes: ranked.bytes,
    });
    return ranked.factIds.length > 0 ? { text: ranked.text, factIds: ranked.factIds } : undefined;
  }

  private async around(entity: EntityRef, agent: AgentDefinition, task: AssignedTask): Promise<Neighbourhood> {
    const { hops, maxFacts } = this.config;
    const [shape, facts] = await Promise.all([
      this.ask({ kind: 'neighbourhood', entity, hops, limit: 50 }, agent, task),
      // More than kept: superseded ones drop out and ranking by hops may prefer older facts nearby.
      this.ask({ kind: 'changed', entity, since: SINCE_EVER, hops, limit: Math.min(500, maxFacts * 3) }, agent, task),
    ]);
    return { root: entity, edges: shape.edges, facts: [...shape.facts, ...facts.facts] };
  }

  private async ask(query: ContextQuery, agent: AgentDefinition, task: AssignedTask): Promise<Answer> {
    const request = createEnvelope(
      contextQueryRequested,
      { query, scopes: [...agent.scopes], caller: agent.id },
      agentTaskMeta(this.source, agent, task),
    );
    const reply = await this.bus.request(contextQueryRequested, request, { timeoutMs: this.config.timeoutMs });
    const answer = contextQueryAnswered.payload.parse(reply.envelope.payload);
    if (!answer.ok) throw new Error(`context query ${query.kind} refused: ${answer.error?.message ?? 'unknown error'}`);
    return answer;
  }
}
