import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { FactView } from '@baton/contracts';
import { GraphDatabase } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';
import { PushOutbox } from '../push/push-outbox';
import { type FactInput, type FactRow, toFactRow, toFactView } from './fact-record';

/**
 * One statement per batch. The batch's distinct entities first, in uid order (concurrent batches lock shared
 * entities in the same order), then the facts not seen before: the fact uid is the envelope id, so a redelivery
 * matches the existing node and changes nothing. Only the new facts' uids come back; their views are built from the
 * rows sent, not read back. Every value is a parameter; nothing from a fact is ever part of the query text.
 */
const WRITE_FACTS = `
UNWIND $entities AS en
MERGE (e:Entity {uid: en.uid})
  ON CREATE SET e.ns = $ns, e.kind = en.kind, e.id = en.id, e.createdAt = $now
WITH count(*) AS entities
UNWIND $facts AS f
MERGE (x:Fact {uid: f.props.uid})
  ON CREATE SET x += f.props, x.batch = $batch
WITH x, f WHERE x.batch = $batch
MATCH (e:Entity {uid: f.props.aboutUid})
CREATE (x)-[:ABOUT]->(e)
WITH e, f
CALL {
  WITH e, f
  WITH e, f WHERE f.rel IS NOT NULL
  MATCH (t:Entity {uid: f.rel.toUid})
  MERGE (e)-[r:REL {type: f.rel.type}]->(t)
    ON CREATE SET r.scopes = f.props.scopes, r.factId = f.props.id, r.at = f.props.occurredAt
    ON MATCH SET r.scopes = CASE WHEN size(f.props.scopes) < size(r.scopes) THEN f.props.scopes ELSE r.scopes END
}
WITH e, collect(f.props.uid) AS created
SET e.updatedAt = $now
WITH created
UNWIND created AS uid
RETURN uid`;

const MARK_SUPERSEDED = `
UNWIND $pairs AS p
MATCH (old:Fact {uid: p.old})
WHERE old.supersededBy IS NULL
SET old.supersededBy = p.newId`;

function withoutNulls(props: FactRow['props']): FactRow['props'] {
  const out: FactRow['props'] = {};
  for (const [key, value] of Object.entries(props)) if (value !== null) out[key] = value;
  return out;
}

export interface WrittenBatch {
  created: FactView[];
  pushes: number;
}

@Injectable()
export class FactStore {
  constructor(
    private readonly db: GraphDatabase,
    private readonly model: GraphModel,
    private readonly pushes: PushOutbox,
  ) {}

  /**
   * Writes a batch in one transaction, together with the pushes its new facts cause (the push outbox), so a crash
   * after the commit cannot lose a push and a redelivery (whose facts exist already) records none twice. Returns the
   * facts that were new (duplicates and redeliveries are not) and how many pushes were recorded.
   */
  async writeBatch(facts: readonly FactInput[]): Promise<WrittenBatch> {
    if (facts.length === 0) return { created: [], pushes: 0 };
    const now = Date.now();
    const unique = new Map<string, FactRow>();
    for (const fact of facts) {
      const row = toFactRow(this.model, fact, now);
      if (!unique.has(row.uid)) unique.set(row.uid, row);
    }
    const entities = new Map<string, { uid: string; kind: string; id: string }>();
    for (const row of unique.values()) {
      entities.set(row.aboutUid, { uid: row.aboutUid, ...row.about });
      if (row.rel)
        entities.set(row.rel.toUid, { uid: row.rel.toUid, kind: row.rel.toKind, id: row.rel.toId });
    }
    const batch = randomUUID();
    return this.db.write(async (tx) => {
      const anyTask = this.pushes.anyTaskInFlight(tx);
      // Settled by record() below; a failed write must not leave it as an unhandled rejection.
      anyTask.catch(() => undefined);
      const result = await tx.run(WRITE_FACTS, {
        entities: [...entities.values()].sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0)),
        // Parameters cost per value sent: nulls are left out (absent is null to Cypher), uids travel once.
        facts: [...unique.values()].map(({ rel, props }) => ({ rel, props: withoutNulls(props) })),
        ns: this.model.namespace,
        now,
        batch,
      });
      const created = result.records.flatMap((record) => {
        const row = unique.get(record.get('uid') as string);
        return row ? [row] : [];
      });
      const pairs = created
        .filter((row) => row.supersedesUid !== null)
        .map((row) => ({ old: row.supersedesUid, newId: row.props['id'] }));
      if (pairs.length > 0) await tx.run(MARK_SUPERSEDED, { pairs });
      const views = created.map((row) => toFactView(row.props));
      return { created: views, pushes: await this.pushes.record(tx, views, anyTask) };
    });
  }
}
