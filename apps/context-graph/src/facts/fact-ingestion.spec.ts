import { loadContextGraphConfig } from '../config/context-graph-config';
import { GraphModel } from '../graph/graph-model';
import type { PushRelay } from '../push/push-relay';
import type { FactInput } from './fact-record';
import { FactIngestion } from './fact-ingestion.service';
import type { FactStore, WrittenBatch } from './fact-store';

/** A store whose writes finish when the test says so: which batches overlap is then a matter of order, not time. */
class HeldStore {
  readonly started: string[][] = [];
  private readonly finish: (() => void)[] = [];

  writeBatch(facts: readonly FactInput[]): Promise<WrittenBatch> {
    this.started.push(facts.map((fact) => fact.id));
    return new Promise((resolve) => this.finish.push(() => resolve({ created: [], pushes: 0 })));
  }

  /** Lets the oldest unfinished write commit, then lets the ingestion react to it. */
  async commitOldest(): Promise<void> {
    this.finish.shift()?.();
    await turns();
  }
}

/** Enough event-loop turns for setImmediate batching and the promise chains after a write. */
async function turns(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

function fact(id: string, extra: Partial<FactInput['body']> = {}): FactInput {
  return {
    id,
    body: { about: { kind: 'Service', id: 'checkout' }, confidence: 0.9, scopes: [], ...extra },
    occurredAt: new Date(0).toISOString(),
    source: 'test',
  };
}

function ingestion(batchMax: number, writesInFlight: number) {
  const config = loadContextGraphConfig({
    NEO4J_URI: 'bolt://127.0.0.1:7687',
    NEO4J_PASSWORD: 'secret',
    KAFKA_BROKERS: '127.0.0.1:9092',
    BATON_API_KEYS: 'a-key-of-sixteen-chars-or-more',
    CONTEXT_BATCH_MAX: String(batchMax),
    CONTEXT_WRITES_IN_FLIGHT: String(writesInFlight),
  });
  const store = new HeldStore();
  const relay = { wake: () => undefined } as unknown as PushRelay;
  const service = new FactIngestion(store as unknown as FactStore, new GraphModel(config), relay, config);
  const ingest = (...facts: FactInput[]): Promise<boolean[]> => Promise.all(facts.map((f) => service.ingest(f)));
  return { store, ingest };
}

describe('FactIngestion batch writes in flight', () => {
  it('overlaps full batches up to the limit, in arrival order', async () => {
    const { store, ingest } = ingestion(2, 2);
    const all = ingest(fact('a1'), fact('a2'), fact('b1'), fact('b2'), fact('c1'), fact('c2'));
    await turns();
    expect(store.started).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    await store.commitOldest();
    expect(store.started).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
      ['c1', 'c2'],
    ]);
    await store.commitOldest();
    await store.commitOldest();
    await all;
  });

  it('starts a second write only once a full batch is waiting', async () => {
    const { store, ingest } = ingestion(3, 2);
    const first = ingest(fact('a1'));
    await turns();
    const second = ingest(fact('b1'), fact('b2'));
    await turns();
    expect(store.started).toEqual([['a1']]);
    await store.commitOldest();
    expect(store.started).toEqual([['a1'], ['b1', 'b2']]);
    await store.commitOldest();
    await Promise.all([first, second]);
  });

  it('writes a batch with a superseding fact or a relationship alone, after the batches before it committed', async () => {
    const { store, ingest } = ingestion(2, 2);
    const all = ingest(
      fact('a1'),
      fact('a2'),
      fact('b1', { supersedes: 'a1' }),
      fact('b2'),
      fact('c1', { relationship: { type: 'DEPENDS_ON', to: { kind: 'Service', id: 'db' } } }),
      fact('c2'),
      fact('d1'),
      fact('d2'),
    );
    await turns();
    expect(store.started).toEqual([['a1', 'a2']]);
    await store.commitOldest();
    expect(store.started.at(-1)).toEqual(['b1', 'b2']);
    expect(store.started).toHaveLength(2);
    await store.commitOldest();
    expect(store.started.at(-1)).toEqual(['c1', 'c2']);
    expect(store.started).toHaveLength(3);
    await store.commitOldest();
    expect(store.started.at(-1)).toEqual(['d1', 'd2']);
    await store.commitOldest();
    await all;
  });

  it('keeps one write at a time when configured so', async () => {
    const { store, ingest } = ingestion(2, 1);
    const all = ingest(fact('a1'), fact('a2'), fact('b1'), fact('b2'));
    await turns();
    expect(store.started).toEqual([['a1', 'a2']]);
    await store.commitOldest();
    expect(store.started).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    await store.commitOldest();
    await all;
  });
});
