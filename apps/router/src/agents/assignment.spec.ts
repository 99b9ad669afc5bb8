import { EMPTY_POLICY_SET, parsePolicySet } from '@baton/policy';
import { chooseAgent, type Candidate } from './assignment';

const agent = (agentId: string, extra: Partial<Candidate> = {}): Candidate => ({
  agentId,
  team: 'ops',
  capabilities: ['triage'],
  scopes: [],
  maxConcurrency: 2,
  load: 0,
  live: true,
  ...extra,
});

const policies = parsePolicySet(
  { version: 1, policies: [{ id: 'ops-incidents', effect: 'allow', subjects: { teams: ['ops'] }, scopes: ['incidents'] }] },
  'test',
);

describe('assignment', () => {
  it('chooses the least loaded eligible agent, ties broken by agent id', () => {
    expect(chooseAgent([agent('b'), agent('a'), agent('c', { load: 1 })], { capability: 'triage' }, EMPTY_POLICY_SET)).toEqual({ agentId: 'a' });
    expect(chooseAgent([agent('a', { load: 1 }), agent('b', { load: 1, maxConcurrency: 4 })], { capability: 'triage' }, EMPTY_POLICY_SET)).toEqual({
      agentId: 'b',
    });
  });

  it('skips dead, incapable and excluded agents, and says why nobody is left', () => {
    expect(chooseAgent([agent('a', { live: false }), agent('b', { capabilities: ['x'] })], { capability: 'triage' }, EMPTY_POLICY_SET)).toEqual({
      reason: 'no live agent has capability "triage"',
    });
    expect(chooseAgent([agent('a'), agent('b')], { capability: 'triage' }, EMPTY_POLICY_SET, new Set(['a']))).toEqual({ agentId: 'b' });
  });

  it('requires policy permission for every data scope (default deny) and an announced scope', () => {
    const task = { capability: 'triage', scopes: ['incidents'] };
    expect(chooseAgent([agent('a', { scopes: ['incidents'] })], task, EMPTY_POLICY_SET)).toEqual({
      reason: 'no agent with capability "triage" is permitted for scopes [incidents]: no policy allows a (team ops) data.access on incidents',
    });
    expect(chooseAgent([agent('a', { scopes: ['incidents'], team: 'sales' }), agent('b', { scopes: ['incidents'] })], task, policies)).toEqual({
      agentId: 'b',
    });
    expect(chooseAgent([agent('a')], task, policies)).toMatchObject({ reason: expect.stringContaining('does not handle scope "incidents"') });
  });

  it('never overloads: agents at max concurrency are not eligible', () => {
    expect(chooseAgent([agent('a', { load: 2 })], { capability: 'triage' }, EMPTY_POLICY_SET)).toEqual({
      reason: 'all 1 eligible agent(s) for "triage" are at max concurrency',
    });
  });
});
