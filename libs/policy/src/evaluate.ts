import type { Policy, PolicySet } from './policy-set';

export interface PolicySubject {
  agentId: string;
  team: string;
}

export interface PolicyDecision {
  allowed: boolean;
  /** Why, for logs and `waiting_for_agent` reasons. */
  reason: string;
  /** The policy that decided; absent when nothing matched (default deny). */
  policyId?: string;
}

export const DATA_ACCESS = 'data.access';

export function matches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -2);
    return value === prefix || value.startsWith(`${prefix}.`);
  }
  return pattern === value;
}

function applies(policy: Policy, subject: PolicySubject, action: string, scope: string): boolean {
  const bySubject =
    (policy.subjects.agents?.some((p) => matches(p, subject.agentId)) ?? false) ||
    (policy.subjects.teams?.some((p) => matches(p, subject.team)) ?? false);
  return bySubject && policy.actions.some((p) => matches(p, action)) && policy.scopes.some((p) => matches(p, scope));
}

/** Default deny; an applicable deny beats any allow. */
export function evaluate(set: PolicySet, subject: PolicySubject, action: string, scope: string): PolicyDecision {
  let allow: Policy | undefined;
  for (const policy of set.policies) {
    if (!applies(policy, subject, action, scope)) continue;
    if (policy.effect === 'deny') {
      return { allowed: false, policyId: policy.id, reason: `policy ${policy.id} denies ${subject.agentId} ${action} on ${scope}` };
    }
    allow ??= policy;
  }
  if (allow) return { allowed: true, policyId: allow.id, reason: `policy ${allow.id} allows ${subject.agentId} ${action} on ${scope}` };
  return { allowed: false, reason: `no policy allows ${subject.agentId} (team ${subject.team}) ${action} on ${scope}` };
}

/** Allowed only when every scope is; the first refusal is the reason. No scopes: nothing to guard. */
export function evaluateAll(set: PolicySet, subject: PolicySubject, action: string, scopes: readonly string[]): PolicyDecision {
  for (const scope of scopes) {
    const decision = evaluate(set, subject, action, scope);
    if (!decision.allowed) return decision;
  }
  return { allowed: true, reason: scopes.length === 0 ? 'no data scopes' : `allowed on ${scopes.join(', ')}` };
}
