import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import {
  STEP_CANCELLED,
  STEP_COMPLETED,
  STEP_DISPATCHED,
  STEP_FAILED,
  TOPICS,
  WORKFLOW_CANCELLED,
  WORKFLOW_COMPLETED,
  WORKFLOW_FAILED,
  type EntityRef,
  type Envelope,
  type PayloadOf,
  type stepDispatched,
} from '@baton/contracts';
import { GraphDatabase } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';
import { taskContextOf } from './in-flight-tasks';

export const TASKS_GROUP = 'context-graph.tasks';

/** The task travels as one map, so one plan serves every task whatever its lists hold (see GraphDatabase). */
const TRACK_TASK = `
MERGE (t:Task {uid: $task.uid})
  ON CREATE SET t.ns = $ns, t.taskId = $task.taskId, t.workflowId = $task.workflowId, t.stepId = $task.stepId,
                t.scopes = $task.scopes, t.since = $task.now
WITH t
UNWIND $task.entities AS entity
MERGE (e:Entity {uid: entity.uid})
  ON CREATE SET e.ns = $ns, e.kind = entity.kind, e.id = entity.id, e.createdAt = $task.now
MERGE (t)-[:CONCERNS]->(e)`;

const FORGET_TASK = 'MATCH (t:Task {uid: $uid}) DETACH DELETE t';
const FORGET_WORKFLOW = 'MATCH (t:Task) WHERE t.ns = $ns AND t.workflowId = $workflowId DETACH DELETE t';

/**
 * Learns which tasks are in flight, and about which entities, from the router's lifecycle log
 * (`baton.workflow.events`): nobody has to call context-graph for push to work. Kept in the graph, so a restart
 * keeps the set. Every end of a task or its workflow (completed, failed, cancelled) forgets it: nothing else
 * would, and a task left behind would be pushed updates for good.
 */
@Injectable()
export class TasksConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly bus: KafkaBus,
    private readonly db: GraphDatabase,
    private readonly model: GraphModel,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.db.rehearse([
      {
        name: 'track task',
        cypher: TRACK_TASK,
        params: this.trackParams({ taskId: 'statement-rehearsal', workflowId: '', stepId: '' }, [], []),
      },
    ]);
    await this.bus.subscribe({
      groupId: TASKS_GROUP,
      topics: [TOPICS.workflowEvents],
      partitionsConsumedConcurrently: 3,
      handler: async ({ envelope }) => {
        switch (envelope.type) {
          case STEP_DISPATCHED:
            await this.track(envelope as Envelope<PayloadOf<typeof stepDispatched>>);
            return;
          // A cancelled attempt ends its task id for good: a retry after a time-out is dispatched under a new one.
          case STEP_COMPLETED:
          case STEP_FAILED:
          case STEP_CANCELLED:
            await this.db.write((tx) => tx.run(FORGET_TASK, { uid: this.taskUid((envelope.payload as { taskId: string }).taskId) }));
            return;
          case WORKFLOW_COMPLETED:
          case WORKFLOW_FAILED:
          case WORKFLOW_CANCELLED:
            await this.db.write((tx) =>
              tx.run(FORGET_WORKFLOW, {
                ns: this.model.namespace,
                workflowId: (envelope.payload as { workflowId: string }).workflowId,
              }),
            );
            return;
          default:
            return;
        }
      },
    });
  }

  private async track(envelope: Envelope<PayloadOf<typeof stepDispatched>>): Promise<void> {
    const context = taskContextOf(envelope.payload.input);
    if (!context) return;
    await this.db.write((tx) => tx.run(TRACK_TASK, this.trackParams(envelope.payload, context.scopes, context.entities)));
  }

  private trackParams(
    step: { taskId: string; workflowId: string; stepId: string },
    scopes: readonly string[],
    entities: readonly EntityRef[],
  ): Record<string, unknown> {
    return {
      ns: this.model.namespace,
      task: {
        uid: this.taskUid(step.taskId),
        taskId: step.taskId,
        workflowId: step.workflowId,
        stepId: step.stepId,
        scopes,
        now: Date.now(),
        entities: entities.map((entity) => ({ ...entity, uid: this.model.entityUid(entity) })),
      },
    };
  }

  private taskUid(taskId: string): string {
    return `${this.model.namespace}|task|${taskId}`;
  }
}
