export interface HostedAgent {
  id: string;
  team: string;
  capabilities: readonly string[];
  scopes: readonly string[];
  models: readonly string[];
  maxConcurrency: number;
}

/**
 * Agents a runner hosts when no agent definitions are configured: enough for the
 * demo and the end-to-end tests to run every scenario step on the built-in model.
 */
export const BUILTIN_AGENTS: readonly HostedAgent[] = [
  {
    id: 'builtin-analyst',
    team: 'platform',
    capabilities: ['analysis', 'summarize', 'diagnosis', 'impact-analysis', 'report'],
    scopes: ['public'],
    models: ['baton-deterministic-v1'],
    maxConcurrency: 16,
  },
  {
    id: 'builtin-clerk',
    team: 'operations',
    capabilities: ['extraction', 'classification', 'compliance-check', 'sign-off', 'echo'],
    scopes: ['public'],
    models: ['baton-deterministic-v1'],
    maxConcurrency: 16,
  },
];

export function agentFor(capability: string, agents: readonly HostedAgent[] = BUILTIN_AGENTS): HostedAgent | undefined {
  return agents.find((agent) => agent.capabilities.includes(capability));
}
