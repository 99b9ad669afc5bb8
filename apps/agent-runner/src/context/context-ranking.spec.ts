import { randomUUID } from 'node:crypto';
import type { FactView } from '@baton/contracts';
import { hopsFrom, rankContext, type Neighbourhood } from './context-ranking';

const svc = (id: string) => ({ kind: 'Service', id });

function fact(about: string, overrides: Partial<FactView> = {}): FactView {
  return {
    id: randomUUID(),
    about: svc(about),
    attribute: 'a',
    value: 1,
    confidence: 0.5,
    scopes: [],
    occurredAt: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:00.000Z',
    provenance: { source: 'test', agentId: 'agent-a' },
    ...overrides,
  };
}

const bounds = { hops: 2, maxFacts: 20, maxBytes: 100_000 };

describe('hopsFrom', () => {
  it('counts relationships in either direction, shortest path first', () => {
    const distances = hopsFrom(svc('a'), [
      { from: svc('a'), to: svc('b') },
      { from: svc('c'), to: svc('b') },
      { from: svc('a'), to: svc('c') },
      { from: svc('c'), to: svc('d') },
    ]);
    expect(Object.fromEntries(distances)).toEqual({ 'Service:a': 0, 'Service:b': 1, 'Service:c': 1, 'Service:d': 2 });
  });
});

describe('rankContext', () => {
  const edges = [{ from: svc('a'), to: svc('b') }];

  it('puts closer hops first, then the most recent, then the most confident, and leaves superseded facts out', () => {
    const near = fact('a', { occurredAt: '2026-01-01T00:00:00.000Z' });
    const nearNewer = fact('a', { occurredAt: '2026-02-01T00:00:00.000Z', confidence: 0.1 });
    const nearNewerSure = fact('a', { occurredAt: '2026-02-01T00:00:00.000Z', confidence: 0.9 });
    const far = fact('b', { occurredAt: '2026-03-01T00:00:00.000Z', confidence: 1 });
    const unreached = fact('z', { occurredAt: '2026-04-01T00:00:00.000Z' });
    const stale = fact('a', { occurredAt: '2026-05-01T00:00:00.000Z', supersededBy: randomUUID() });
    const ranked = rankContext([{ root: svc('a'), edges, facts: [unreached, far, near, stale, nearNewer, nearNewerSure] }], bounds);
    expect(ranked.factIds).toEqual([nearNewerSure.id, nearNewer.id, near.id, far.id, unreached.id]);
    const lines = ranked.text.split('\n').map((line) => JSON.parse(line) as { hops: number; about: string; by: string });
    expect(lines.map((line) => line.hops)).toEqual([0, 0, 0, 1, 2]);
    expect(lines[3]).toMatchObject({ about: 'Service:b', by: 'agent-a' });
    expect(ranked.bytes).toBe(Buffer.byteLength(ranked.text));
  });

  it('keeps a fact once, at its closest distance from any of the task entities', () => {
    const shared = fact('b');
    const neighbourhoods: Neighbourhood[] = [
      { root: svc('a'), edges, facts: [shared] },
      { root: svc('b'), edges: [], facts: [shared, shared] },
    ];
    const ranked = rankContext(neighbourhoods, bounds);
    expect(ranked.factIds).toEqual([shared.id]);
    expect(JSON.parse(ranked.text)).toMatchObject({ hops: 0 });
  });

  it('bounds the number of facts and their bytes, skipping one that is too large rather than stopping', () => {
    const facts = [1, 2, 3, 4].map((n) => fact('a', { occurredAt: `2026-01-0${n}T00:00:00.000Z` }));
    expect(rankContext([{ root: svc('a'), edges: [], facts }], { ...bounds, maxFacts: 2 }).factIds).toEqual([facts[3]!.id, facts[2]!.id]);

    const huge = fact('a', { occurredAt: '2026-06-01T00:00:00.000Z', value: 'x'.repeat(2_000) });
    const small = [fact('a'), fact('a')];
    const ranked = rankContext([{ root: svc('a'), edges: [], facts: [huge, ...small] }], { ...bounds, maxBytes: 700 });
    expect(ranked.factIds).toHaveLength(2);
    expect(ranked.factIds).not.toContain(huge.id);
    expect(ranked.bytes).toBeLessThanOrEqual(700);
  });

  it('attaches nothing when nothing is visible', () => {
    expect(rankContext([{ root: svc('a'), edges: [], facts: [] }], bounds)).toEqual({ text: '', factIds: [], bytes: 0 });
  });
});
