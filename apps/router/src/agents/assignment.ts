import { DATA_ACCESS, evaluateAll, type PolicySet } from '@baton/policy';

export interface Candidate {
  agentId: string;
  team: string;
  capabilities: readonly string[];
  /** Scopes the agent announced it handles. */
  scopes: readonly string[];
  live: boolean;
}

/** The policy decision of one routing: data access to the task's scopes, over the capable agents. */
export interface PolicyCheck {
  action: string;
  scopes: readonly string[];
  /** Capable agents announcing every scope, each judged by policy. */
  evaluated: number;
  permitted: number;
  /** The first refusal, when any agent was refused. */
  refusal?: string;
}

/** What a routing decided, with its policy decision when the task has data scopes. */
export type Assignment = ({ agentId: string } | { reason: string }) & { policy?: PolicyCheck };

/** The agents who may take a task, or why there is none. */
export type Eligibility = ({ agentIds: string[] } | { reason: string }) & { policy?: PolicyCheck };

/**
 * Who may take the task: live, has the capability, not excluded, announced
 * every data scope of the task and is permitted for each by policy (default
 * deny). Which of them takes it — the least loaded with a free slot, ties by
 * agent id — is decided under their locks by the reserve_agents SQL function
 * (migration 1732700000000-agent-reservation.ts). Otherwise the reason says
 * which condition nobody met.
 */
export function eligibleAgents(
  candidates: readonly Candidate[],
  task: { capability: string; scopes?: readonly string[] },
  policies: PolicySet,
  exclude: ReadonlySet<string> = new Set(),
): Eligibility {
  const scopes = task.scopes ?? [];
  const capable = candidates.filter((c) => c.live && !exclude.has(c.agentId) && c.capabilities.includes(task.capability));
  if (capable.length === 0) return { reason: `no live agent has capability "${task.capability}"` };

  let refusal: string | undefined;
  let policyRefusal: string | undefined;
  let evaluated = 0;
  const permitted = capable.filter((c) => {
    const missing = scopes.find((scope) => !c.scopes.includes(scope));
    if (missing !== undefined) {
      refusal ??= `agent ${c.agentId} does not handle scope "${missing}"`;
      return false;
    }
    evaluated += 1;
    const decision = evaluateAll(policies, { agentId: c.agentId, team: c.team }, DATA_ACCESS, scopes);
    if (!decision.allowed) {
      refusal ??= decision.reason;
      policyRefusal ??= decision.reason;
    }
    return decision.allowed;
  });
  const policy: PolicyCheck | undefined =
    scopes.length === 0
      ? undefined
      : {
          action: DATA_ACCESS,
          scopes,
          evaluated,
          permitted: permitted.length,
          ...(policyRefusal !== undefined ? { refusal: policyRefusal } : {}),
        };
  const judged = policy === undefined ? {} : { policy };
  if (permitted.length === 0) {
    return {
      reason: `no agent with capability "${task.capability}" is permitted for scopes [${scopes.join(', ')}]: ${refusal ?? 'denied'}`,
      ...judged,
    };
  }
  return { agentIds: permitted.map((c) => c.agentId), ...judged };
}
