import { expectEventually } from '@baton/testing';

/**
 * The router refuses workflows naming capabilities no agent has announced, so
 * a test submits only once the agents' heartbeats have reached its registry.
 */
export async function agentsAnnounced(
  routerUrl: string,
  apiKey: string,
  capabilities: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  await expectEventually(
    async () => {
      const response = await fetch(`${routerUrl}/agents`, { headers: { authorization: `Bearer ${apiKey}` } });
      const agents = (await response.json()) as Array<{ capabilities: string[] }>;
      const known = new Set(agents.flatMap((agent) => agent.capabilities));
      const missing = capabilities.filter((capability) => !known.has(capability));
      if (missing.length > 0) throw new Error(`the router knows no agent with ${missing.join(', ')} yet`);
    },
    { timeoutMs },
  );
}
