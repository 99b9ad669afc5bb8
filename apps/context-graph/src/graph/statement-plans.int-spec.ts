import { randomUUID } from 'node:crypto';
import neo4j, { type Driver } from 'neo4j-driver';
import { createEnvelope, stepDispatched } from '@baton/contracts';
import { expectEventually } from '@baton/testing';
import { FactStore } from '../facts/fact-store';
import { Harness } from '../../test/harness';
import { GraphModel } from './graph-model';

/**
 * Neo4j keys a cached plan on the query text and on the size (a power of ten) of every list and string parameter.
 * These tests read what Neo4j itself recorded — its query collector (`db.stats`) keeps each invocation's parameters
 * as it saw them, a list as `§LIST[n]`, a map as `§MAP[n]` — for the statements of the write and push paths.
 */
const STATEMENTS = {
  'write facts': 'CREATE (:Fact {uid: uid',
  'tasks touched': 'MATCH (t:Task)-[:CONCERNS]->(x:Entity)',
  'record pushes': 'MERGE (c:PushSequence',
  'track task': 'MERGE (t:Task {uid:',
} as const;
type Statement = keyof typeof STATEMENTS;

interface Invocation {
  statement: Statement;
  params: Record<string, unknown>;
  at: number;
}

const h = new Harness();
let driver: Driver;
let namespace: string;

/** The collector's invocations of our statements in this spec's namespace since `from`, oldest first. */
async function invocations(from = 0): Promise<Invocation[]> {
  const result = await driver.executeQuery("CALL db.stats.retrieve('QUERIES') YIELD data RETURN data");
  const found: Invocation[] = [];
  for (const record of result.records) {
    const data = record.get('data') as {
      query: string;
      invocations?: { params: Record<string, unknown>; startTimestampMillis: number }[];
    };
    const statement = (Object.keys(STATEMENTS) as Statement[]).find((name) => data.query.includes(STATEMENTS[name]));
    if (statement === undefined) continue;
    for (const invocation of data.invocations ?? []) {
      if (invocation.params['ns'] !== namespace || invocation.startTimestampMillis < from) continue;
      found.push({ statement, params: invocation.params, at: invocation.startTimestampMillis });
    }
  }
  return found.sort((a, b) => a.at - b.at);
}

beforeAll(async () => {
  driver = neo4j.driver(h.infra.neo4j.uri, neo4j.auth.basic(h.infra.neo4j.user, h.infra.neo4j.password), {
    disableLosslessIntegers: true,
  });
  // Before the app starts, so its start-up rehearsal is recorded too.
  await driver.executeQuery("CALL db.stats.collect('QUERIES', {durationSeconds: 300})");
  await h.start((env) => Object.assign(process.env, env));
  namespace = h.app!.get(GraphModel).namespace;
}, 120_000);

afterAll(async () => {
  await driver.executeQuery("CALL db.stats.stop('QUERIES')").catch(() => undefined);
  await driver.close();
  await h.stop();
});

describe('statement plans', () => {
  it('plans the write and push statements at start-up, in transactions that leave nothing behind', async () => {
    await expectEventually(async () => {
      const rehearsed = new Set((await invocations()).map((invocation) => invocation.statement));
      expect([...rehearsed].sort()).toEqual(Object.keys(STATEMENTS).sort());
    });
    const left = await driver.executeQuery('MATCH (n) WHERE n.uid STARTS WITH $ns RETURN count(n) AS n', {
      ns: namespace,
    });
    expect(left.records[0]?.get('n')).toBe(0);
  });

  it('hands Neo4j batches of any size, and their pushes, in parameters that carry no size', async () => {
    const store = h.app!.get(FactStore);
    const from = Date.now();
    const tag = randomUUID().slice(0, 8);
    const entity = { kind: 'Service', id: `plans-${tag}` };
    const workflowId = randomUUID();
    const taskId = randomUUID();
    await h.publish(
      stepDispatched,
      createEnvelope(
        stepDispatched,
        {
          workflowId,
          stepId: 'diagnose',
          taskId,
          attempt: 1,
          capability: 'diagnosis',
          input: { entities: [entity] },
        },
        { source: 'cg-test', correlationId: workflowId, workflowId },
      ),
    );
    await expectEventually(async () => {
      const tracked = await driver.executeQuery('MATCH (t:Task {uid: $uid}) RETURN count(t) AS n', {
        uid: `${namespace}|task|${taskId}`,
      });
      expect(tracked.records[0]?.get('n')).toBe(1);
    });
    const fact = (i: number, about: { kind: string; id: string }) => ({
      id: randomUUID(),
      body: { about, attribute: `a${i}`, value: i, text: 'x'.repeat(i), confidence: 0.5, scopes: [] },
      occurredAt: new Date().toISOString(),
      source: 'cg-test',
    });
    // 1, 12 and 150 facts: three size buckets for every list and joined string; each batch has one fact on the
    // task's entity, so the push statements run with it.
    for (const size of [1, 12, 150]) {
      const batch = Array.from({ length: size }, (_, i) => fact(i, i === 0 ? entity : { kind: 'Service', id: `plans-${tag}-${i}` }));
      const written = await store.writeBatch(batch);
      expect(written.pushes).toBe(1);
    }

    await expectEventually(async () => {
      const seen = await invocations(from);
      const counts = (statement: Statement) => seen.filter((invocation) => invocation.statement === statement).length;
      expect(counts('write facts')).toBe(3);
      expect(counts('tasks touched')).toBe(3);
      expect(counts('record pushes')).toBe(3);
      expect(counts('track task')).toBe(1);
      for (const invocation of seen) {
        for (const [name, value] of Object.entries(invocation.params)) {
          const sizeless = typeof value === 'number' || name === 'ns' || /^§MAP\[\d+\]$/.test(String(value));
          expect({ statement: invocation.statement, name, value, sizeless }).toEqual({
            statement: invocation.statement,
            name,
            value,
            sizeless: true,
          });
        }
      }
    });
  });
});
