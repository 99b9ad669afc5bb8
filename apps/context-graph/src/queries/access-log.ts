import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { FactView, JsonValue } from '@baton/contracts';
import { toFactView } from '../facts/fact-record';
import { GraphDatabase } from '../graph/neo4j';
import { GraphModel } from '../graph/graph-model';
import type { QueryResult, Reader } from './context-queries.service';

/** The access travels as one map, so one plan serves every query and fact list (see GraphDatabase). */
const RECORD_ACCESS = `
CREATE (a:Access {uid: $access.uid, ns: $ns, workflowId: $access.workflowId, caller: $access.caller,
                  query: $access.query, at: $access.at, factIds: $access.factIds, scopes: $access.scopes})`;

const WRITTEN = `
MATCH (f:Fact) WHERE f.ns = $ns AND f.workflowId = $workflowId
RETURN properties(f) AS fact ORDER BY f.occurredAt`;

const READ = `
MATCH (a:Access) WHERE a.ns = $ns AND a.workflowId = $workflowId
RETURN a.caller AS caller, a.query AS query, a.at AS at, a.factIds AS factIds, a.scopes AS scopes ORDER BY a.at`;

export interface WorkflowExport {
  workflowId: string;
  wrote: FactView[];
  read: { caller: string; at: string; scopes: string[]; query: JsonValue; factIds: string[] }[];
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

  async export(workflowId: string): Promise<WorkflowExport> {
    return this.db.read(async (tx) => {
      const params = { ns: this.model.namespace, workflowId };
      const [wrote, read] = [await tx.run(WRITTEN, params), await tx.run(READ, params)];
      return {
        workflowId,
        wrote: wrote.records.map((record) => toFactView(record.get('fact') as Record<string, unknown>)),
        read: read.records.map((record) => ({
          caller: record.get('caller') as string,
          at: new Date(record.get('at') as number).toISOString(),
          scopes: record.get('scopes') as string[],
          query: JSON.parse(record.get('query') as string) as JsonValue,
          factIds: record.get('factIds') as string[],
        })),
      };
    });
  }
}
