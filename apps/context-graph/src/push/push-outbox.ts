import { Injectable } from '@nestjs/common';
import type { ManagedTransaction } from 'neo4j-driver';
import { HEADERS } from '@baton/bus';
import { type EntityRef, type FactView, contextUpdated, createEnvelope, serializeEnvelope } from '@baton/contracts';
import { injectTraceHeaders } from '@baton/telemetry';
import { deterministicUuid } from '../graph/deterministic-uuid';
import { GraphModel } from '../graph/graph-model';
import type { Rehearsal } from '../graph/neo4j';

/**
 * From the tasks in flight rather than from the facts: there are few tasks and many facts per batch, so the cost of
 * a batch does not grow with its size. A task matches an entity it is about, or anything that entity DEPENDS_ON
 * (≤ 3 hops) through relationships whose scopes it holds; the fact's own scopes are checked per fact.
 */
const TASKS_TOUCHED = `
MATCH (t:Task)-[:CONCERNS]->(x:Entity)
WHERE t.ns = $ns AND t.workflowId IS NOT NULL
MATCH p = (x)-[:REL*0..3]->(e:Entity)
WHERE e.uid IN $batch.aboutUids
  AND all(r IN relationships(p) WHERE r.type = 'DEPENDS_ON' AND all(s IN r.scopes WHERE s IN t.scopes))
RETURN e.uid AS aboutUid, t.taskId AS taskId, t.workflowId AS workflowId, t.stepId AS stepId, t.scopes AS scopes,
       length(p) AS hops, {kind: x.kind, id: x.id} AS entity, [n IN tail(nodes(p)) | {kind: n.kind, id: n.id}] AS via`;

/** Sending a batch's entity uids costs more than this look; most batches in a quiet namespace stop here. */
const ANY_TASK = 'MATCH (t:Task) WHERE t.ns = $ns AND t.workflowId IS NOT NULL RETURN t.uid AS uid LIMIT 1';

/**
 * Numbers the records in commit order: the counter is locked (`_lock`) before it is read, so concurrent writers of
 * one namespace (several instances) serialise here and never hand out a number twice.
 */
const RECORD_PUSHES = `
MERGE (c:PushSequence {uid: $batch.sequenceUid})
  ON CREATE SET c.ns = $ns, c.next = 0
SET c._lock = true
WITH c, c.next AS base
SET c.next = base + size($batch.pushes)
REMOVE c._lock
WITH base
UNWIND range(0, size($batch.pushes) - 1) AS i
WITH base + i AS seq, $batch.pushes[i] AS p
CREATE (:PendingPush {uid: p.uid, ns: $ns, seq: seq, envelopeId: p.id, topic: p.topic, key: p.key, value: p.value,
                      headers: p.headers, recordedAt: $batch.now})`;

interface TaskHit {
  aboutUid: string;
  taskId: string;
  workflowId: string;
  stepId: string;
  scopes: string[];
  hops: number;
  entity: EntityRef;
  via: EntityRef[];
}

/** A `context.updated` ready to be sent: what the relay reads back and publishes as it was recorded. */
export interface PendingPushRecord {
  uid: string;
  id: string;
  topic: string;
  key: string;
  value: string;
  headers: string;
}

/**
 * The write side of the push outbox: in the transaction that creates facts, finds the in-flight tasks each new fact
 * is relevant to and records one `context.updated` per (fact, task). The envelope, id included, is fixed here, so
 * however often the relay publishes it a consumer sees one id.
 */
@Injectable()
export class PushOutbox {
  constructor(private readonly model: GraphModel) {}

  /**
   * Whether any task of the namespace is in flight. Issued before the batch's write and awaited after it: the
   * driver pipelines both statements, so the look costs no round trip of its own.
   */
  anyTaskInFlight(tx: ManagedTransaction): Promise<boolean> {
    return tx.run(ANY_TASK, { ns: this.model.namespace }).then((result) => result.records.length > 0);
  }

  /** The push path's statements, for GraphDatabase.rehearse: each finds or records nothing. */
  rehearsals(): Rehearsal[] {
    const ns = this.model.namespace;
    return [
      { name: 'any task in flight', cypher: ANY_TASK, params: { ns } },
      { name: 'tasks touched', cypher: TASKS_TOUCHED, params: { ns, batch: { aboutUids: [] } } },
      { name: 'record pushes', cypher: RECORD_PUSHES, params: this.recordParams([]) },
    ];
  }

  private recordParams(pushes: readonly PendingPushRecord[]): Record<string, unknown> {
    const ns = this.model.namespace;
    return { ns, batch: { sequenceUid: `${ns}|push-sequence`, pushes, now: Date.now() } };
  }

  /** Returns how many pushes were recorded (the relay needs waking only when some were). */
  async record(tx: ManagedTransaction, facts: readonly FactView[]): Promise<number> {
    if (facts.length === 0) return 0;
    const ns = this.model.namespace;
    const byEntity = new Map<string, FactView[]>();
    for (const fact of facts) {
      const uid = this.model.entityUid(fact.about);
      const list = byEntity.get(uid);
      if (list) list.push(fact);
      else byEntity.set(uid, [fact]);
    }
    const result = await tx.run(TASKS_TOUCHED, { ns, batch: { aboutUids: [...byEntity.keys()] } });
    if (result.records.length === 0) return 0;

    // Per (fact, task) the shortest path wins: the update names the task's own entity nearest to the fact.
    const best = new Map<string, { fact: FactView; hit: TaskHit }>();
    for (const record of result.records) {
      const hit = record.toObject() as unknown as TaskHit;
      for (const fact of byEntity.get(hit.aboutUid) ?? []) {
        if (!fact.scopes.every((scope) => hit.scopes.includes(scope))) continue;
        const key = `${fact.id}|${hit.taskId}`;
        const known = best.get(key);
        if (known === undefined || hit.hops < known.hit.hops) best.set(key, { fact, hit });
      }
    }
    if (best.size === 0) return 0;

    const traceHeaders = injectTraceHeaders();
    const pushes: PendingPushRecord[] = [...best.values()].map(({ fact, hit }) => {
      const envelope = createEnvelope(
        contextUpdated,
        {
          workflowId: hit.workflowId,
          stepId: hit.stepId,
          taskId: hit.taskId,
          entity: { kind: hit.entity.kind, id: hit.entity.id },
          via: hit.via,
          fact,
        },
        {
          id: deterministicUuid(`baton.context.updates|${fact.id}|${hit.taskId}`),
          source: 'context-graph',
          correlationId: hit.workflowId,
          workflowId: hit.workflowId,
          causationId: fact.id,
        },
      );
      return {
        uid: `${ns}|push|${envelope.id}`,
        id: envelope.id,
        topic: contextUpdated.topic,
        key: contextUpdated.key(envelope),
        value: serializeEnvelope(envelope).toString('utf8'),
        // Captured now, inside the ingesting span: by the time the relay sends it that span has ended.
        headers: JSON.stringify({
          ...traceHeaders,
          [HEADERS.contentType]: 'application/json',
          [HEADERS.type]: envelope.type,
          [HEADERS.version]: String(envelope.version),
        }),
      };
    });
    await tx.run(RECORD_PUSHES, this.recordParams(pushes));
    return pushes.length;
  }
}
