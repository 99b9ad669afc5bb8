import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { ManagedTransaction } from 'neo4j-driver';
import { GraphDatabase, type Rehearsal } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';
import { PushOutbox } from '../push/push-outbox';
import { type FactInput, type FactRow, toFactRow, toFactView } from './fact-record';

/**
 * One statement per batch. The batch's distinct entities first, in uid order (concurrent batches lock shared
 * entities in the same order), then the facts not seen before: the fact uid is the envelope id, so a redelivery
 * finds the existing node and writes nothing. The look is a locking unique-index seek (what Neo4j plans for a
 * constrained uid in a writing query), so a concurrent writer of the same envelope is waited for and then found, as
 * with MERGE, but with no marker property to tell new facts from old. Only the new facts' positions come back; their
 * views (for pushes) are built from the rows sent, not read back. Every value is a parameter; nothing from a fact is ever part of
 * the query text.
 *
 * Parameters travel as one list or joined string per property (see factColumns), and what the server can derive (uids, namespace,
 * recordedAt, the about entity's kind and id) is not sent at all: packing 2,000 maps of ~16 keys was the client's
 * largest cost per batch, and decoding them a share of the server's. Entities are no longer stamped with an
 * `updatedAt` that nothing read (2,000 node writes per batch).
 */
/** Properties sent per fact, as WRITE_FACTS reads them: `column[i]` is fact i's value. */
const FACT_COLUMNS = [
  'id',
  'attribute',
  'valueJson',
  'text',
  'relType',
  'relToKind',
  'relToId',
  'confidence',
  'scopes',
  'occurredAt',
  'validUntil',
  'source',
  'agentId',
  'workflowId',
  'sourceEvent',
  'search',
] as const;

/** Sent as lists whatever they hold. */
const NUMBER_COLUMNS: ReadonlySet<string> = new Set(['confidence', 'occurredAt', 'validUntil']);

/**
 * A string column travels as one string, its values joined by SEPARATOR, when all of them are strings without it
 * (scopes too: each fact's joined by commas, which identifiers never hold); else as a list. The driver probes every
 * value it packs for temporal and spatial types and encodes each string on its own: 2,000 facts took ≈ 11 µs per fact
 * to pack as lists against ≈ 2.5 joined, and splitting is cheap for the server.
 */
const SEPARATOR = '\u001f';

/** The Cypher reading column `name` back as a list, whichever way it travelled. */
function column(name: string): string {
  if (name === 'scopes') {
    return `coalesce($batch.scopes, [s IN split($batch.scopesJoined, $batch.sep) | CASE s WHEN '' THEN [] ELSE split(s, ',') END]) AS scopes`;
  }
  return NUMBER_COLUMNS.has(name)
    ? `$batch.${name} AS ${name}`
    : `coalesce($batch.${name}, split($batch.${name}Joined, $batch.sep)) AS ${name}`;
}

const WRITE_FACTS = `
WITH ${column('entityKind')}, ${column('entityId')}
UNWIND range(0, size(entityKind) - 1) AS j
WITH entityKind[j] AS kind, entityId[j] AS entity
MERGE (e:Entity {uid: $ns + '|' + kind + '|' + entity})
  ON CREATE SET e.ns = $ns, e.kind = kind, e.id = entity, e.createdAt = $now
WITH collect(e) AS entities
WITH entities, ${FACT_COLUMNS.map(column).join(', ')}
UNWIND range(0, size(id) - 1) AS i
WITH *, $ns + '|' + id[i] AS uid
OPTIONAL MATCH (seen:Fact {uid: uid})
WITH * WHERE seen IS NULL
WITH *, entities[toInteger($batch.about[i])] AS e
CREATE (:Fact {uid: uid, ns: $ns, id: id[i], aboutUid: e.uid, aboutKind: e.kind, aboutId: e.id,
               attribute: attribute[i], valueJson: valueJson[i], text: text[i], relType: relType[i],
               relToKind: relToKind[i], relToId: relToId[i], confidence: confidence[i], scopes: scopes[i],
               occurredAt: occurredAt[i], recordedAt: $now, validUntil: validUntil[i], source: source[i],
               agentId: agentId[i], workflowId: workflowId[i], sourceEvent: sourceEvent[i],
               search: search[i]})-[:ABOUT]->(e)
WITH i, e, id, relType, relToKind, relToId, scopes, occurredAt
CALL (i, e, id, relType, relToKind, relToId, scopes, occurredAt) {
  WITH * WHERE relType[i] IS NOT NULL
  MATCH (t:Entity {uid: $ns + '|' + relToKind[i] + '|' + relToId[i]})
  MERGE (e)-[r:REL {type: relType[i]}]->(t)
    ON CREATE SET r.scopes = scopes[i], r.factId = id[i], r.at = occurredAt[i]
    ON MATCH SET r.scopes = CASE WHEN size(scopes[i]) < size(r.scopes) THEN scopes[i] ELSE r.scopes END
}
RETURN i`;

const MARK_SUPERSEDED = `
UNWIND $batch.pairs AS p
MATCH (old:Fact {uid: p.old})
WHERE old.supersededBy IS NULL
SET old.supersededBy = p.newId`;

type Column = FactRow['props'][string][];

/** Sends `values` as `name` (a list, or one null when all are null) or as `nameJoined` (see SEPARATOR). */
function putColumn(params: Record<string, unknown>, name: string, values: Column): void {
  const joined = NUMBER_COLUMNS.has(name) ? undefined : joinedColumn(name, values);
  params[name] = joined !== undefined || values.every((value) => value === null) ? null : values;
  if (!NUMBER_COLUMNS.has(name)) params[`${name}Joined`] = joined ?? null;
}

function joinedColumn(name: string, values: Column): string | undefined {
  if (name === 'scopes') {
    const lists = values.every(
      (value) => Array.isArray(value) && value.every((scope) => !scope.includes(',') && !scope.includes(SEPARATOR)),
    );
    return lists ? values.map((value) => (value as string[]).join(',')).join(SEPARATOR) : undefined;
  }
  const strings = values.every((value) => typeof value === 'string' && !value.includes(SEPARATOR));
  return strings ? values.join(SEPARATOR) : undefined;
}

/**
 * The batch as parallel columns: no keys repeated per fact, no per-map type probing in the driver. A property no fact
 * of the batch has travels as one null, which Cypher indexes to null for every fact; CREATE leaves null properties
 * out, as the maps without nulls did before.
 */
function factColumns(rows: readonly FactRow[]): Record<string, unknown> {
  const entityIndex = new Map<string, number>();
  const entities: { uid: string; kind: string; id: string }[] = [];
  for (const row of rows) {
    entities.push({ uid: row.aboutUid, ...row.about });
    if (row.rel) entities.push({ uid: row.rel.toUid, kind: row.rel.toKind, id: row.rel.toId });
  }
  entities.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  const entityKind: string[] = [];
  const entityId: string[] = [];
  for (const entity of entities) {
    if (entityIndex.has(entity.uid)) continue;
    entityIndex.set(entity.uid, entityKind.length);
    entityKind.push(entity.kind);
    entityId.push(entity.id);
  }
  const params: Record<string, unknown> = {
    sep: SEPARATOR,
    about: rows.map((row) => entityIndex.get(row.aboutUid)),
  };
  putColumn(params, 'entityKind', entityKind);
  putColumn(params, 'entityId', entityId);
  for (const name of FACT_COLUMNS)
    putColumn(
      params,
      name,
      rows.map((row) => row.props[name] ?? null),
    );
  return params;
}

export interface WrittenBatch {
  /** Ids of the facts that were new (duplicates and redeliveries are not). */
  created: string[];
  pushes: number;
}

@Injectable()
export class FactStore implements OnApplicationBootstrap {
  constructor(
    private readonly db: GraphDatabase,
    private readonly model: GraphModel,
    private readonly pushes: PushOutbox,
  ) {}

  /** Plans the write path's statements before the first batch needs them (see GraphDatabase). */
  onApplicationBootstrap(): void {
    const now = Date.now();
    const sample = toFactRow(
      this.model,
      {
        id: '00000000-0000-4000-8000-000000000000',
        body: { about: { kind: 'Service', id: 'statement-rehearsal' }, confidence: 1, scopes: [] },
        occurredAt: new Date(now).toISOString(),
        source: 'context-graph',
      },
      now,
    );
    const rehearsals: Rehearsal[] = [
      {
        name: 'write facts',
        cypher: WRITE_FACTS,
        params: { batch: factColumns([sample]), ns: this.model.namespace, now },
      },
      { name: 'mark superseded', cypher: MARK_SUPERSEDED, params: { batch: { pairs: [] } } },
    ];
    this.db.rehearse([...rehearsals, ...this.pushes.rehearsals()]);
  }

  /**
   * Writes a batch in one transaction, together with the pushes its new facts cause (the push outbox), so a crash
   * after the commit cannot lose a push and a redelivery (whose facts exist already) records none twice. Returns the
   * ids of the facts that were new and how many pushes were recorded.
   */
  async writeBatch(facts: readonly FactInput[]): Promise<WrittenBatch> {
    if (facts.length === 0) return { created: [], pushes: 0 };
    const now = Date.now();
    const unique = new Map<string, FactRow>();
    for (const fact of facts) {
      const row = toFactRow(this.model, fact, now);
      if (!unique.has(row.uid)) unique.set(row.uid, row);
    }
    const rows = [...unique.values()];
    const params = { batch: factColumns(rows), ns: this.model.namespace, now };
    return await this.db.write((tx) => this.write(tx, rows, params));
  }

  private async write(tx: ManagedTransaction, rows: readonly FactRow[], params: Record<string, unknown>): Promise<WrittenBatch> {
    const anyTask = this.pushes.anyTaskInFlight(tx);
    // Awaited below only when facts were new; a failed write must not leave it as an unhandled rejection.
    anyTask.catch(() => undefined);
    const result = await tx.run(WRITE_FACTS, params);
    const created = result.records.flatMap((record) => {
      const row = rows[record.get('i') as number];
      return row ? [row] : [];
    });
    const pairs = created.filter((row) => row.supersedesUid !== null).map((row) => ({ old: row.supersedesUid, newId: row.props['id'] }));
    if (pairs.length > 0) await tx.run(MARK_SUPERSEDED, { batch: { pairs } });
    const ids = created.map((row) => row.props['id'] as string);
    // Views only for the push look: most batches find no task in flight, and the callers need only which were new.
    if (created.length === 0 || !(await anyTask)) return { created: ids, pushes: 0 };
    const views = created.map((row) => toFactView(row.props));
    return { created: ids, pushes: await this.pushes.record(tx, views) };
  }
}
