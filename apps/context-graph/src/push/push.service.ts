import { Injectable, Logger } from '@nestjs/common';
import { KafkaBus } from '@baton/bus';
import { type EntityRef, type FactView, createEnvelope, contextUpdated } from '@baton/contracts';
import { deterministicUuid } from '../graph/deterministic-uuid';
import { GraphDatabase } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';

/**
 * Tasks in flight whose entities are the fact's entity, or depend on it (DEPENDS_ON, up to 3 hops), and whose
 * scopes cover the fact's scopes. Relationships the task could not read do not count as a path.
 */
const TASKS_TOUCHED = `
UNWIND $facts AS f
MATCH (e:Entity {uid: f.aboutUid})
MATCH p = (x:Entity)-[:REL*0..3]->(e)
WHERE all(r IN relationships(p) WHERE r.type = 'DEPENDS_ON')
MATCH (t:Task)-[:CONCERNS]->(x)
WHERE t.ns = $ns
  AND all(s IN f.scopes WHERE s IN t.scopes)
  AND all(r IN relationships(p) WHERE all(s IN r.scopes WHERE s IN t.scopes))
WITH f, t, x, p ORDER BY length(p)
WITH f, t, head(collect({kind: x.kind, id: x.id, via: [n IN tail(nodes(p)) | {kind: n.kind, id: n.id}]})) AS hit
RETURN f.id AS factId, t.taskId AS taskId, t.workflowId AS workflowId, t.stepId AS stepId, hit`;

/** Pushes new facts to the in-flight tasks they are relevant to, on `baton.context.updates`. */
@Injectable()
export class PushService {
  private readonly logger = new Logger('PushService');

  constructor(
    private readonly db: GraphDatabase,
    private readonly model: GraphModel,
    private readonly bus: KafkaBus,
  ) {}

  async onFactsRecorded(facts: readonly FactView[]): Promise<number> {
    if (facts.length === 0) return 0;
    const byId = new Map(facts.map((fact) => [fact.id, fact]));
    const rows = await this.db.read((tx) =>
      tx.run(TASKS_TOUCHED, {
        ns: this.model.namespace,
        facts: facts.map((fact) => ({
          id: fact.id,
          aboutUid: this.model.entityUid(fact.about),
          scopes: fact.scopes,
        })),
      }),
    );
    for (const record of rows.records) {
      const fact = byId.get(record.get('factId') as string);
      if (!fact) continue;
      const hit = record.get('hit') as { kind: string; id: string; via: EntityRef[] };
      const taskId = record.get('taskId') as string;
      const workflowId = record.get('workflowId') as string;
      const envelope = createEnvelope(
        contextUpdated,
        {
          workflowId,
          stepId: record.get('stepId') as string,
          taskId,
          entity: { kind: hit.kind, id: hit.id },
          via: hit.via,
          fact,
        },
        {
          // One update per (fact, task): a consumer can dedupe by envelope id.
          id: deterministicUuid(`baton.context.updates|${fact.id}|${taskId}`),
          source: 'context-graph',
          correlationId: workflowId,
          workflowId,
          causationId: fact.id,
        },
      );
      await this.bus.publish(contextUpdated, envelope);
    }
    if (rows.records.length > 0)
      this.logger.debug?.({ msg: 'context updates pushed', count: rows.records.length });
    return rows.records.length;
  }
}
