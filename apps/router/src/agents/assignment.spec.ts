import { EMPTY_POLICY_SET, parsePolicySet } from '@baton/policy';
import { eligibleAgents, type Candidate } from './assignment';

const agent = (agentId: string, extra: Partial<Candidate> = {}): Candidate => ({
  agentId,
  team: 'ops',
  capabilities: ['triage'],
  scopes: [],
  live: true,
  ...extra,
});

const policies = parsePolicySet(
  { version: 1, policies: [{ id: 'ops-incidents', effect: 'allow', subjects: { teams: ['ops'] }, scopes: ['incidents'] }] },
  'test',
);

// Load, capacity and the least-loaded choice are reserve_agents' (agent-reservation.int-spec.ts).
describe('agent eligibility', () => {
  it('keeps live agents with the capability that are not excluded, and says why nobody is left', () => {
    expect(
      eligibleAgents([agent('a', { live: false }), agent('b', { capabilities: ['x'] })], { capability: 'triage' }, EMPTY_POLICY_SET),
    ).toEqual({
      reason: 'no live agent has capability "triage"',
    });
    expect(eligibleAgents([agent('a'), agent('b'), agent('c')], { capability: 'triage' }, EMPTY_POLICY_SET, new Set(['a']))).toEqual({
      agentIds: ['b', 'c'],
    });
  });

  it('requires policy permission for every data scope (default deny) and an announced scope', () => {
    const task = { capability: 'triage', scopes: ['incidents'] };
    const refusedA = 'no policy allows a (team ops) data.access on incidents';
    expect(eligibleAgents([agent('a', { scopes: ['incidents'] })], task, EMPTY_POLICY_SET)).toEqual({
      reason: `no agent with capability "triage" is permitted for scopes [incidents]: ${refusedA}`,
      policy: { action: 'data.access', scopes: ['incidents'], evaluated: 1, permitted: 0, refusal: refusedA },
    });
    expect(
      eligibleAgents([agent('a', { scopes: ['incidents'], team: 'sales' }), agent('b', { scopes: ['incidents'] })], task, policies),
    ).toEqual({
      agentIds: ['b'],
      policy: {
        action: 'data.access',
        scopes: ['incidents'],
        evaluated: 2,
        permitted: 1,
        refusal: 'no policy allows a (team sales) data.access on incidents',
      },
    });
    // An agent not announcing the scope is not put to policy at all.
    expect(eligibleAgents([agent('a')], task, policies)).toEqual({
      reason: expect.stringContaining('does not handle scope "incidents"'),
      policy: { action: 'data.access', scopes: ['incidents'], evaluated: 0, permitted: 0 },
    });
  });
});
