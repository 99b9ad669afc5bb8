import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import neo4j from 'neo4j-driver';
import type { ContextQuery, EntityRef, FactView } from '@baton/contracts';
import { toFactView } from '../facts/fact-record';
import { FACT_TEXT_INDEX } from '../graph/graph-migrations';
import { GraphDatabase, type Rehearsal } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';

export interface EdgeView {
  from: EntityRef;
  type: string;
  to: EntityRef;
  factId?: string;
}

export interface QueryResult {
  entities: EntityRef[];
  edges: EdgeView[];
  facts: FactView[];
}

/** Who asks and with which scopes; the scopes are applied inside every Cypher query. */
export interface Reader {
  caller: string;
  scopes: readonly string[];
  workflowId?: string;
}

/**
 * Variable-length bounds cannot be parameters in Cypher, so each allowed depth has its own constant query text;
 * the depth was validated as an integer 1..4 and only selects among these constants.
 */
const DEPTHS = [1, 2, 3, 4] as const;
export const DEFAULT_HOPS = 2;
export const DEFAULT_LIMIT = 50;
type Depth = (typeof DEPTHS)[number];

/**
 * The scope rule of every read: a node or relationship whose `scopes` the caller (`$q.scopes`) does not all hold is
 * not returned. Shared with the workflow export (AccessLog), so no read path can drift from it.
 */
export const holdsScopes = (variable: string): string => `all(s IN ${variable}.scopes WHERE s IN $q.scopes)`;
const visibleRels = (variable: string): string => `all(r IN ${variable} WHERE ${holdsScopes('r')})`;
const visibleFact = (variable: string): string =>
  `${holdsScopes(variable)} AND (${variable}.validUntil IS NULL OR ${variable}.validUntil > $q.now)`;
/** Current facts first (not superseded), then the most recent, then the most confident. */
const FACT_ORDER = 'ORDER BY f.supersededBy IS NULL DESC, f.occurredAt DESC, f.confidence DESC';

const neighbourhoodQuery = (depth: Depth): string => `
MATCH (e:Entity {uid: $q.uid})
CALL (e) {
  MATCH p = (e)-[rs:REL*1..${depth}]-(:Entity)
  WHERE ${visibleRels('rs')}
  RETURN p LIMIT $paths
}
UNWIND relationships(p) AS r
WITH DISTINCT r
RETURN startNode(r).kind AS fromKind, startNode(r).id AS fromId, r.type AS type,
       endNode(r).kind AS toKind, endNode(r).id AS toId, r.factId AS factId
LIMIT $limit`;

const dependenciesQuery = (depth: Depth): string => `
MATCH (e:Entity {uid: $q.uid})
OPTIONAL MATCH (e)-[ds:REL*1..${depth}]->(d:Entity)
WHERE all(r IN ds WHERE r.type = 'DEPENDS_ON') AND ${visibleRels('ds')}
WITH e, collect(DISTINCT d) AS deps
UNWIND [e] + deps AS t
MATCH (f:Fact) WHERE f.aboutUid = t.uid AND f.occurredAt >= $q.from AND ${visibleFact('f')}
RETURN properties(f) AS fact
${FACT_ORDER}
LIMIT $limit`;

const aroundQuery = (depth: Depth): string => `
MATCH (e:Entity {uid: $q.uid})
OPTIONAL MATCH (e)-[ds:REL*1..${depth}]-(d:Entity)
WHERE ${visibleRels('ds')}
WITH e, collect(DISTINCT d) AS near
UNWIND [e] + near AS t
MATCH (f:Fact) WHERE f.aboutUid = t.uid AND f.occurredAt >= $q.from AND ${visibleFact('f')}
RETURN properties(f) AS fact
${FACT_ORDER}
LIMIT $limit`;

// Through the entity's ABOUT relationships: an entity has few facts, the whole graph has millions.
const FACTS_ABOUT = `
MATCH (:Entity {uid: $q.uid})<-[:ABOUT]-(f:Fact)
WHERE ${visibleFact('f')}
RETURN properties(f) AS fact
${FACT_ORDER}
LIMIT $limit`;

const SEARCH = `
CALL db.index.fulltext.queryNodes('${FACT_TEXT_INDEX}', $q.lucene) YIELD node AS f, score
WHERE f.ns = $ns AND ${visibleFact('f')}
RETURN properties(f) AS fact
ORDER BY score DESC, f.occurredAt DESC
LIMIT $limit`;

const ENTITY = 'MATCH (e:Entity {uid: $q.uid}) RETURN e.kind AS kind, e.id AS id';

/**
 * What a query's statement is sent: the caller's values in one map, `q`, so that one cached plan serves every uid,
 * scope list and search text whatever their sizes (see GraphDatabase); the limits as top-level integers, since LIMIT
 * takes only a parameter or a literal.
 */
interface QueryValues {
  uid?: string;
  from?: number;
  lucene?: string;
  ns?: string;
  limit?: number;
  paths?: number;
}

const NEIGHBOURHOOD = new Map(DEPTHS.map((depth) => [depth, neighbourhoodQuery(depth)]));
const DEPENDENCIES = new Map(DEPTHS.map((depth) => [depth, dependenciesQuery(depth)]));
const AROUND = new Map(DEPTHS.map((depth) => [depth, aroundQuery(depth)]));

/** Lucene treats these as syntax; escaped, the caller's text is only ever searched for. */
export function escapeLucene(text: string): string {
  return text.replace(/[+\-!(){}[\]^"~*?:\\/&|]/g, (char) => `\\${char}`).replace(/\b(AND|OR|NOT|TO)\b/g, (word) => word.toLowerCase());
}

function pick<T>(table: Map<Depth, T>, hops: number): T {
  const query = table.get(hops as Depth);
  if (query === undefined) throw new RangeError(`hops must be 1..4, got ${hops}`);
  return query;
}

@Injectable()
export class ContextQueries implements OnApplicationBootstrap {
  constructor(
    private readonly db: GraphDatabase,
    private readonly model: GraphModel,
  ) {}

  /** Plans every query's statement before the first caller needs it (see GraphDatabase); each finds nothing. */
  onApplicationBootstrap(): void {
    const reader: Reader = { caller: 'statement-rehearsal', scopes: [] };
    const uid = this.model.entityUid({ kind: 'Service', id: 'statement-rehearsal' });
    const at = (name: string, table: Map<Depth, string>, values: QueryValues): Rehearsal[] =>
      DEPTHS.map((depth) => ({
        name: `${name} (${depth} hops)`,
        cypher: pick(table, depth),
        params: this.params(reader, values),
      }));
    this.db.rehearse([
      { name: 'entity', cypher: ENTITY, params: this.params(reader, { uid }) },
      { name: 'facts about', cypher: FACTS_ABOUT, params: this.params(reader, { uid, limit: 1 }) },
      ...at('neighbourhood', NEIGHBOURHOOD, { uid, limit: 1, paths: 4 }),
      ...at('recent', DEPENDENCIES, { uid, from: 0, limit: 1 }),
      ...at('changed', AROUND, { uid, from: 0, limit: 1 }),
      {
        name: 'search',
        cypher: SEARCH,
        params: this.params(reader, { lucene: 'statement-rehearsal', ns: this.model.namespace, limit: 1 }),
      },
    ]);
  }

  async run(query: ContextQuery, reader: Reader): Promise<QueryResult> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const none = { entities: [], edges: [] };
    switch (query.kind) {
      case 'neighbourhood':
        return this.neighbourhood(query.entity, query.hops ?? DEFAULT_HOPS, limit, reader);
      case 'recent': {
        const from = Date.now() - query.windowMs;
        return {
          ...none,
          facts: await this.recent(query.entity, from, query.hops ?? DEFAULT_HOPS, limit, reader),
        };
      }
      case 'changed': {
        const since = Date.parse(query.since);
        return {
          ...none,
          facts: await this.changedSince(query.entity, since, query.hops ?? DEFAULT_HOPS, limit, reader),
        };
      }
      case 'search':
        return { ...none, facts: await this.search(query.text, limit, reader) };
    }
  }

  async entity(entity: EntityRef, reader: Reader, limit = 50): Promise<{ entity: EntityRef; facts: FactView[] } | undefined> {
    const uid = this.model.entityUid(entity);
    return this.db.read(async (tx) => {
      const found = await tx.run(ENTITY, this.params(reader, { uid }));
      if (found.records.length === 0) return undefined;
      const facts = await tx.run(FACTS_ABOUT, this.params(reader, { uid, limit }));
      return {
        entity,
        facts: facts.records.map((record) => toFactView(record.get('fact') as Record<string, unknown>)),
      };
    });
  }

  async neighbourhood(entity: EntityRef, hops: number, limit: number, reader: Reader): Promise<QueryResult> {
    const uid = this.model.entityUid(entity);
    return this.db.read(async (tx) => {
      const result = await tx.run(pick(NEIGHBOURHOOD, hops), this.params(reader, { uid, limit, paths: limit * 4 }));
      const edges: EdgeView[] = result.records.map((record) => ({
        from: { kind: record.get('fromKind') as string, id: record.get('fromId') as string },
        type: record.get('type') as string,
        to: { kind: record.get('toKind') as string, id: record.get('toId') as string },
        ...(typeof record.get('factId') === 'string' ? { factId: record.get('factId') as string } : {}),
      }));
      const entities = new Map<string, EntityRef>([[`${entity.kind}|${entity.id}`, entity]]);
      for (const edge of edges) {
        for (const end of [edge.from, edge.to]) entities.set(`${end.kind}|${end.id}`, end);
      }
      const facts = await tx.run(FACTS_ABOUT, this.params(reader, { uid, limit }));
      return {
        entities: [...entities.values()],
        edges,
        facts: facts.records.map((record) => toFactView(record.get('fact') as Record<string, unknown>)),
      };
    });
  }

  recent(entity: EntityRef, from: number, hops: number, limit: number, reader: Reader): Promise<FactView[]> {
    return this.facts(pick(DEPENDENCIES, hops), { uid: this.model.entityUid(entity), from, limit }, reader);
  }

  changedSince(entity: EntityRef, since: number, hops: number, limit: number, reader: Reader): Promise<FactView[]> {
    return this.facts(pick(AROUND, hops), { uid: this.model.entityUid(entity), from: since, limit }, reader);
  }

  search(text: string, limit: number, reader: Reader): Promise<FactView[]> {
    return this.facts(SEARCH, { lucene: escapeLucene(text), ns: this.model.namespace, limit }, reader);
  }

  private facts(cypher: string, params: QueryValues, reader: Reader): Promise<FactView[]> {
    return this.db.read(async (tx) => {
      const result = await tx.run(cypher, this.params(reader, params));
      return result.records.map((record) => toFactView(record.get('fact') as Record<string, unknown>));
    });
  }

  private params(reader: Reader, { limit, paths, ns, ...values }: QueryValues): Record<string, unknown> {
    return {
      q: { ...values, scopes: [...reader.scopes], now: Date.now() },
      // LIMIT needs a Cypher integer; plain JS numbers travel as floats.
      ...(limit === undefined ? {} : { limit: neo4j.int(limit) }),
      ...(paths === undefined ? {} : { paths: neo4j.int(paths) }),
      ...(ns === undefined ? {} : { ns }),
    };
  }
}
