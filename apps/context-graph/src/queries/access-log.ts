import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import neo4j from 'neo4j-driver';
import type { FactView, JsonValue } from '@baton/contracts';
import { toFactView } from '../facts/fact-record';
import { GraphDatabase } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';
import { type QueryResult, type Reader, holdsScopes } from './context-queries.service';

/** The access travels as one map, so one plan serves every query and fact list (see GraphDatabase). */
const RECORD_ACCESS = `
CREATE (a:Access {uid: $access.uid, ns: $ns, workflowId: $access.workflowId, caller: $access.caller,
                  query: $access.query, at: $access.at, factIds: $access.factIds, scopes: $access.scopes})`;

/**
 * Superseded and expired facts are kept: the export is the record of what the workflow wrote, not what is true now.
 * One row past the limit tells the caller the list was cut.
 */
const WRITTEN = `
MATCH (f:Fact) WHERE f.ns = $ns AND f.workflowId = $q.workflowId AND ${holdsScopes('f')}
RETURN properties(f) AS fact ORDER BY f.occurredAt, f.id
LIMIT $limit`;

/**
 * A read made with a scope the exporter lacks may have returned facts it may not see, and its query may name them
 * (a search text, an entity): the read is withheld whole, as a fact is. A read it does see only returned facts
 * within the scopes it holds, so its fact ids and scopes hide nothing.
 */
const READ = `
MATCH (a:Access) WHERE a.ns = $ns AND a.workflowId = $q.workflowId AND ${holdsScopes('a')}
RETURN a.caller AS caller, a.query AS query, a.at AS at, a.factIds AS factIds, a.scopes AS scopes
ORDER BY a.at, a.uid
LIMIT $limit`;

export interface WorkflowExport {
  workflowId: string;
  wrote: FactView[];
  read: { caller: string; at: string; scopes: string[]; query: JsonValue; factIds: string[] }[];
  /** A list holding `limit` entries with more left out. */
  truncated: { wrote: boolean; read: boolean };
}

/** What each workflow read (queries with the facts they returned) and wrote (facts it recorded): its export. */
@Injectable()
export class AccessLog {
  constructor(
    private readonly db: GraphDatabase,
    private readonly model: GraphModel,
  ) {}

  async record(reader: Reader, query: JsonValue, result: QueryResult): Promise<void> {
    if (reader.workflowId === undefined) return;
    await this.db.write((tx) =>
      tx.run(RECORD_ACCESS, {
        ns: this.model.namespace,
        access: {
          uid: `${this.model.namespace}|access|${randomUUID()}`,
          workflowId: reader.workflowId,
          caller: reader.caller,
          query: JSON.stringify(query),
          at: Date.now(),
          factIds: result.facts.map((fact) => fact.id),
          scopes: [...reader.scopes],
        },
      }),
    );
  }

  /** What `scopes` may see of a workflow's export, at most `limit` facts and `limit` reads, oldest first. */
  async export(workflowId: string, scopes: readonly string[], limit: number): Promise<WorkflowExport> {
    return this.db.read(async (tx) => {
      const params = { ns: this.model.namespace, q: { workflowId, scopes: [...scopes] }, limit: neo4j.int(limit + 1) };
      const [wrote, read] = [await tx.run(WRITTEN, params), await tx.run(READ, params)];
      return {
        workflowId,
        wrote: wrote.records.slice(0, limit).map((record) => toFactView(record.get('fact') as Record<string, unknown>)),
        read: read.records.slice(0, limit).map((record) => ({
          caller: record.get('caller') as string,
          at: new Date(record.get('at') as number).toISOString(),
          scopes: record.get('scopes') as string[],
          query: JSON.parse(record.get('query') as string) as JsonValue,
          factIds: record.get('factIds') as string[],
        })),
        truncated: { wrote: wrote.records.length > limit, read: read.records.length > limit },
      };
    });
  }
}
