/**
 * Schema of the context graph, applied in order at start-up. Every statement is idempotent (IF NOT EXISTS), so
 * instances starting together, or a restart after a partial run, converge; applied versions are recorded as
 * (:GraphMigration) nodes so an operator can see what ran.
 *
 * Model (all nodes carry `ns`, the deployment namespace, and a unique `uid` that starts with it):
 * - (:Entity {uid, ns, kind, id}) — kind is a property, not a label, so kinds users add need no schema change;
 * - (:Entity)-[:REL {type, scopes, factId, at}]->(:Entity) — typed relationships (DEPENDS_ON, OWNS, ...); the type is
 *   a property so it is always a query parameter, never Cypher text;
 * - (:Fact {uid, id, attribute, valueJson, text, confidence, scopes, occurredAt, recordedAt, validUntil,
 *   supersededBy, source, agentId, workflowId, sourceEvent, search})-[:ABOUT]->(:Entity);
 * - (:Task {uid, taskId, workflowId, stepId, scopes})-[:CONCERNS]->(:Entity) — tasks in flight, for push;
 * - (:Access {uid, workflowId, caller, query, at, factIds, scopes}) — what a workflow read, for its export (shown
 *   only to a caller holding all of its scopes);
 * - (:PendingPush {uid, seq, key, value, headers}) — `context.updated` records committed with the facts that caused
 *   them and not yet published (the push outbox); (:PushSequence {uid, next}) numbers them in commit order.
 */
export interface GraphMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const FACT_TEXT_INDEX = 'context_fact_text';

export const GRAPH_MIGRATIONS: readonly GraphMigration[] = [
  {
    version: 1,
    name: 'unique ids',
    statements: [
      'CREATE CONSTRAINT context_migration_version IF NOT EXISTS FOR (m:GraphMigration) REQUIRE m.version IS UNIQUE',
      'CREATE CONSTRAINT context_entity_uid IF NOT EXISTS FOR (e:Entity) REQUIRE e.uid IS UNIQUE',
      'CREATE CONSTRAINT context_fact_uid IF NOT EXISTS FOR (f:Fact) REQUIRE f.uid IS UNIQUE',
      'CREATE CONSTRAINT context_task_uid IF NOT EXISTS FOR (t:Task) REQUIRE t.uid IS UNIQUE',
      'CREATE CONSTRAINT context_access_uid IF NOT EXISTS FOR (a:Access) REQUIRE a.uid IS UNIQUE',
    ],
  },
  {
    version: 2,
    name: 'lookup indexes',
    statements: [
      'CREATE INDEX context_fact_about_time IF NOT EXISTS FOR (f:Fact) ON (f.aboutUid, f.occurredAt)',
      'CREATE INDEX context_fact_workflow IF NOT EXISTS FOR (f:Fact) ON (f.ns, f.workflowId)',
      'CREATE INDEX context_access_workflow IF NOT EXISTS FOR (a:Access) ON (a.ns, a.workflowId)',
      'CREATE INDEX context_task_workflow IF NOT EXISTS FOR (t:Task) ON (t.ns, t.workflowId)',
      'CREATE INDEX context_rel_type IF NOT EXISTS FOR ()-[r:REL]-() ON (r.type)',
    ],
  },
  {
    version: 3,
    name: 'full-text index over facts',
    statements: [`CREATE FULLTEXT INDEX ${FACT_TEXT_INDEX} IF NOT EXISTS FOR (f:Fact) ON EACH [f.search]`],
  },
  {
    version: 4,
    name: 'push outbox',
    statements: [
      'CREATE CONSTRAINT context_pending_push_uid IF NOT EXISTS FOR (p:PendingPush) REQUIRE p.uid IS UNIQUE',
      'CREATE CONSTRAINT context_push_sequence_uid IF NOT EXISTS FOR (s:PushSequence) REQUIRE s.uid IS UNIQUE',
      'CREATE INDEX context_pending_push_order IF NOT EXISTS FOR (p:PendingPush) ON (p.ns, p.seq)',
    ],
  },
];
