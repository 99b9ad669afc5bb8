import { randomUUID } from 'node:crypto';
import neo4j, { type Driver } from 'neo4j-driver';
import { expectEventually } from '@baton/testing';
import { GraphModel } from '../graph/graph-model';
import { Harness } from '../../test/harness';
import { FactStore } from './fact-store';

const h = new Harness();
let driver: Driver;

beforeAll(async () => {
  await h.start((env) => Object.assign(process.env, env));
  driver = neo4j.driver(h.infra.neo4j.uri, neo4j.auth.basic(h.infra.neo4j.user, h.infra.neo4j.password), {
    disableLosslessIntegers: true,
  });
}, 120_000);

afterAll(async () => {
  await driver.close();
  await h.stop();
});

describe('FactStore.writeBatch', () => {
  it('waits for another writer of the same envelope and then leaves its fact alone', async () => {
    const store = h.app!.get(FactStore);
    const model = h.app!.get(GraphModel);
    const id = randomUUID();
    const other = randomUUID();
    const uid = model.factUid(id);

    // Another instance is writing the same envelope: created, not committed yet, so the batch's look misses it.
    const session = driver.session();
    const rival = await session.beginTransaction();
    await rival.run("CREATE (:Fact {uid: $uid, ns: $ns, id: $id, source: 'rival'})", {
      uid,
      ns: model.namespace,
      id,
    });
    const fact = (factId: string) => ({
      id: factId,
      body: { about: { kind: 'Service', id: `race-${id.slice(0, 8)}` }, confidence: 0.9, scopes: [] },
      occurredAt: new Date().toISOString(),
      source: 'cg-test',
    });
    const writing = store.writeBatch([fact(id), fact(other)]);
    // The batch's look for the uid waits on the rival's uncommitted one, then finds it committed.
    await expectEventually(async () => {
      const blocked = await driver.executeQuery(
        "SHOW TRANSACTIONS YIELD status, currentQuery WHERE status STARTS WITH 'Blocked' AND currentQuery CONTAINS 'OPTIONAL MATCH (seen:Fact' RETURN count(*) AS n",
      );
      expect(blocked.records[0]?.get('n')).toBeGreaterThan(0);
    });
    await rival.commit();
    await session.close();

    const written = await writing;
    expect(written.created).toEqual([other]);
    const stored = await driver.executeQuery('MATCH (f:Fact) WHERE f.uid IN $uids RETURN f.id AS id, f.source AS source ORDER BY source', {
      uids: [uid, model.factUid(other)],
    });
    expect(stored.records.map((record) => record.toObject())).toEqual([
      { id: other, source: 'cg-test' },
      { id, source: 'rival' },
    ]);
  });

  it('stores every value as sent, whether its column travels joined or as a list', async () => {
    const store = h.app!.get(FactStore);
    const model = h.app!.get(GraphModel);
    const tag = randomUUID().slice(0, 8);
    const fact = (text: string | undefined, scopes: string[], source: string) => ({
      id: randomUUID(),
      body: {
        about: { kind: 'Service', id: `cols-${tag}` },
        attribute: 'note',
        value: { text: text ?? null },
        ...(text !== undefined ? { text } : {}),
        confidence: 0.5,
        scopes,
      },
      occurredAt: new Date().toISOString(),
      source,
    });
    // texts: one holds the separator (the column goes as a list); sources and scopes: none do (joined).
    const facts = [
      fact('plain', [], 'src-a'),
      fact('with \u001f unit separator', ['customer-data', 'ops'], 'src-b'),
      fact('', ['ops'], 'src-c'),
      fact(undefined, [], 'src-d'),
    ];
    const written = await store.writeBatch(facts);
    expect(written.created.sort()).toEqual(facts.map((f) => f.id).sort());
    const stored = await driver.executeQuery(
      'MATCH (f:Fact) WHERE f.uid IN $uids RETURN f.id AS id, f.text AS text, f.scopes AS scopes, f.source AS source, f.valueJson AS valueJson',
      { uids: facts.map((f) => model.factUid(f.id)) },
    );
    const byId = new Map(stored.records.map((record) => [record.get('id') as string, record.toObject()]));
    for (const f of facts) {
      expect(byId.get(f.id)).toEqual({
        id: f.id,
        text: f.body.text ?? null,
        scopes: [...f.body.scopes].sort(),
        source: f.source,
        valueJson: JSON.stringify(f.body.value),
      });
    }
  });
});
