import { DATA_ACCESS, evaluateAll, type PolicySet } from '@baton/policy';

export interface Candidate {
  agentId: string;
  team: string;
  capabilities: readonly string[];
  /** Scopes the agent announced it handles. */
  scopes: readonly string[];
  maxConcurrency: number;
  /** Open assignments the router gave it. */
  load: number;
  live: boolean;
}

export type Assignment = { agentId: string } | { reason: string };

/** Eligible agents best first, or why there is none. */
export type Ranking = { ranked: Candidate[] } | { reason: string };

/**
 * Eligible = live, has the capability, announced every data scope of the task
 * and is permitted for each by policy (default deny), and is below its max
 * concurrency. Among those, the least loaded (relative to its capacity, then
 * absolute) comes first; ties go to the smallest agent id, so the order is
 * deterministic. Otherwise the reason says which condition nobody met.
 */
export function rankAgents(
  candidates: readonly Candidate[],
  task: { capability: string; scopes?: readonly string[] },
  policies: PolicySet,
  exclude: ReadonlySet<string> = new Set(),
): Ranking {
  const scopes = task.scopes ?? [];
  const capable = candidates.filter((c) => c.live && !exclude.has(c.agentId) && c.capabilities.includes(task.capability));
  if (capable.length === 0) return { reason: `no live agent has capability "${task.capability}"` };

  let refusal: string | undefined;
  const permitted = capable.filter((c) => {
    const missing = scopes.find((scope) => !c.scopes.includes(scope));
    if (missing !== undefined) {
      refusal ??= `agent ${c.agentId} does not handle scope "${missing}"`;
      return false;
    }
    const decision = evaluateAll(policies, { agentId: c.agentId, team: c.team }, DATA_ACCESS, scopes);
    if (!decision.allowed) refusal ??= decision.reason;
    return decision.allowed;
  });
  if (permitted.length === 0) {
    return { reason: `no agent with capability "${task.capability}" is permitted for scopes [${scopes.join(', ')}]: ${refusal ?? 'denied'}` };
  }
  const free = permitted.filter((c) => c.load < c.maxConcurrency);
  if (free.length === 0) {
    return { reason: `all ${permitted.length} eligible agent(s) for "${task.capability}" are at max concurrency` };
  }
  return {
    ranked: [...free].sort(
      (a, b) => a.load / a.maxConcurrency - b.load / b.maxConcurrency || a.load - b.load || (a.agentId < b.agentId ? -1 : 1),
    ),
  };
}

/** The best eligible agent (the head of rankAgents), or why there is none. */
export function chooseAgent(
  candidates: readonly Candidate[],
  task: { capability: string; scopes?: readonly string[] },
  policies: PolicySet,
  exclude: ReadonlySet<string> = new Set(),
): Assignment {
  const ranking = rankAgents(candidates, task, policies, exclude);
  if ('reason' in ranking) return ranking;
  const [best] = ranking.ranked;
  return best ? { agentId: best.agentId } : { reason: 'no eligible agent' };
}
