import type { EntityRef, FactView, JsonValue } from '@baton/contracts';

/** What the context graph answered around one entity the task is about. */
export interface Neighbourhood {
  root: EntityRef;
  edges: { from: EntityRef; to: EntityRef }[];
  facts: FactView[];
}

export interface ContextBounds {
  /** Depth the neighbourhood was asked with: a fact whose entity the edges do not reach is counted this far. */
  hops: number;
  maxFacts: number;
  maxBytes: number;
}

export interface RankedContext {
  text: string;
  factIds: string[];
  bytes: number;
}

const keyOf = (ref: EntityRef): string => `${ref.kind}:${ref.id}`;

/** Shortest distance, in relationships of either direction, from `root` to every entity the edges reach. */
export function hopsFrom(root: EntityRef, edges: Neighbourhood['edges']): Map<string, number> {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    for (const [a, b] of [
      [keyOf(from), keyOf(to)],
      [keyOf(to), keyOf(from)],
    ] as const) {
      const list = next.get(a) ?? [];
      list.push(b);
      next.set(a, list);
    }
  }
  const distance = new Map<string, number>([[keyOf(root), 0]]);
  const queue = [keyOf(root)];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    const here = distance.get(at) ?? 0;
    for (const neighbour of next.get(at) ?? []) {
      if (distance.has(neighbour)) continue;
      distance.set(neighbour, here + 1);
      queue.push(neighbour);
    }
  }
  return distance;
}

interface Candidate {
  fact: FactView;
  hops: number;
}

/**
 * Ranks the facts around a task's entities and keeps what fits: closer hops first, then the most recent,
 * then the most confident (id breaks ties, so the same graph always gives the same context). Superseded facts
 * are left out (their replacement says what is true now); a fact too large for the remaining bytes is skipped
 * so that one huge value cannot crowd out everything else.
 */
export function rankContext(neighbourhoods: readonly Neighbourhood[], bounds: ContextBounds): RankedContext {
  const best = new Map<string, Candidate>();
  for (const { root, edges, facts } of neighbourhoods) {
    const distances = hopsFrom(root, edges);
    for (const fact of facts) {
      if (fact.supersededBy !== undefined) continue;
      const hops = Math.min(distances.get(keyOf(fact.about)) ?? bounds.hops, bounds.hops);
      const known = best.get(fact.id);
      if (known === undefined || hops < known.hops) best.set(fact.id, { fact, hops });
    }
  }
  const ranked = [...best.values()].sort(
    (a, b) =>
      a.hops - b.hops ||
      Date.parse(b.fact.occurredAt) - Date.parse(a.fact.occurredAt) ||
      b.fact.confidence - a.fact.confidence ||
      (a.fact.id < b.fact.id ? -1 : a.fact.id > b.fact.id ? 1 : 0),
  );
  const lines: string[] = [];
  const factIds: string[] = [];
  let bytes = 0;
  for (const candidate of ranked) {
    if (factIds.length >= bounds.maxFacts) break;
    const line = JSON.stringify(presentFact(candidate));
    const size = Buffer.byteLength(line, 'utf8') + (lines.length > 0 ? 1 : 0);
    if (bytes + size > bounds.maxBytes) continue;
    lines.push(line);
    factIds.push(candidate.fact.id);
    bytes += size;
  }
  return { text: lines.join('\n'), factIds, bytes };
}

/** One fact as the model reads it: what, about what, how far from the task, how sure, when and from whom. */
function presentFact({ fact, hops }: Candidate): Record<string, JsonValue> {
  return {
    id: fact.id,
    about: keyOf(fact.about),
    hops,
    ...(fact.attribute !== undefined ? { attribute: fact.attribute } : {}),
    ...(fact.value !== undefined ? { value: fact.value } : {}),
    ...(fact.relationship !== undefined ? { relationship: `${fact.relationship.type} ${keyOf(fact.relationship.to)}` } : {}),
    ...(fact.text !== undefined ? { text: fact.text } : {}),
    confidence: fact.confidence,
    occurredAt: fact.occurredAt,
    by: fact.provenance.agentId ?? fact.provenance.source,
  };
}
