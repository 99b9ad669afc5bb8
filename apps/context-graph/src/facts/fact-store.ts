import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { FactView } from '@baton/contracts';
import { GraphDatabase } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';
import { PushOutbox } from '../push/push-outbox';
import { type FactInput, type FactRow, toFactRow, toFactView } from './fact-record';

/**
 * One UNWIND per batch: creates the facts not seen before (the fact uid is the envelope id, so a redelivery
 * matches the existing node and changes nothing), their entities, relationships and supersession marks.
 * Every value is a parameter; nothing from a fact is ever part of the query text.
 */
const WRITE_FACTS = `
UNWIND $facts AS f
MERGE (e:Entity {uid: f.aboutUid})
  ON CREATE SET e.ns = $ns, e.kind = f.about.kind, e.id = f.about.id, e.createdAt = $now
MERGE (x:Fact {uid: f.uid})
  ON CREATE SET x += f.props, x.batch = $batch
WITH e, x, f, x.batch = $batch AS created
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
  MERGE (x)-[:ABOUT]->(e)
  SET e.updatedAt = $now)
FOREACH (_ IN CASE WHEN created AND f.rel IS NOT NULL THEN [1] ELSE [] END |
  MERGE (t:Entity {uid: f.rel.toUid})
    ON CREATE SET t.ns = $ns, t.kind = f.rel.toKind, t.id = f.rel.toId, t.createdAt = $now
  MERGE (e)-[r:REL {type: f.rel.type}]->(t)
    ON CREATE SET r.scopes = f.props.scopes, r.factId = f.props.id, r.at = f.props.occurredAt
    ON MATCH SET r.scopes = CASE WHEN size(f.props.scopes) < size(r.scopes) THEN f.props.scopes ELSE r.scopes END)
WITH x, f, created WHERE created
RETURN properties(x) AS fact, f.supersedesUid AS supersedesUid`;

const MARK_SUPERSEDED = `
UNWIND $pairs AS p
MATCH (old:Fact {uid: p.old})
WHERE old.supersededBy IS NULL
SET old.supersededBy = p.newId`;

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
    const batch = randomUUID();
    return this.db.write(async (tx) => {
      const result = await tx.run(WRITE_FACTS, {
        facts: [...unique.values()],
        ns: this.model.namespace,
        now,
        batch,
      });
      const created = result.records.map((record) => ({
        fact: toFactView(record.get('fact') as Record<string, unknown>),
        supersedesUid: record.get('supersedesUid') as string | null,
      }));
      const pairs = created
        .filter((entry) => entry.supersedesUid !== null)
        .map((entry) => ({ old: entry.supersedesUid, newId: entry.fact.id }));
      if (pairs.length > 0) await tx.run(MARK_SUPERSEDED, { pairs });
      const views = created.map((entry) => entry.fact);
      return { created: views, pushes: await this.pushes.record(tx, views) };
    });
  }
}
