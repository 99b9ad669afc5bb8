import { EMPTY_POLICY_SET, evaluate, evaluateAll, matches, parsePolicySet, DATA_ACCESS } from './index';

const set = parsePolicySet(
  [
    'version: 1',
    'policies:',
    '  - id: finance-team',
    '    effect: allow',
    '    subjects: { teams: [finance] }',
    '    scopes: [finance.*]',
    '  - id: everyone-public',
    '    effect: allow',
    '    subjects: { agents: ["*"] }',
    '    scopes: [public]',
    '  - id: no-payroll-for-bots',
    '    effect: deny',
    '    subjects: { agents: [bot.*] }',
    '    scopes: [finance.payroll]',
  ].join('\n'),
  'test.yaml',
);

describe('policy evaluation', () => {
  const fin = { agentId: 'analyst', team: 'finance' };
  const bot = { agentId: 'bot.ledger', team: 'finance' };

  it('denies by default and allows what a policy allows', () => {
    expect(evaluate(EMPTY_POLICY_SET, fin, DATA_ACCESS, 'public')).toEqual({
      allowed: false,
      reason: 'no policy allows analyst (team finance) data.access on public',
    });
    expect(evaluate(set, fin, DATA_ACCESS, 'finance.invoices')).toMatchObject({ allowed: true, policyId: 'finance-team' });
    expect(evaluate(set, { agentId: 'x', team: 'sales' }, DATA_ACCESS, 'finance')).toMatchObject({ allowed: false });
  });

  it('lets an applicable deny win over any allow', () => {
    expect(evaluate(set, bot, DATA_ACCESS, 'finance.payroll')).toMatchObject({ allowed: false, policyId: 'no-payroll-for-bots' });
    expect(evaluate(set, bot, DATA_ACCESS, 'finance.invoices')).toMatchObject({ allowed: true });
  });

  it('requires every scope', () => {
    expect(evaluateAll(set, fin, DATA_ACCESS, ['public', 'finance.x'])).toMatchObject({ allowed: true });
    expect(evaluateAll(set, { agentId: 'x', team: 'sales' }, DATA_ACCESS, ['public', 'finance.x'])).toMatchObject({
      allowed: false,
      reason: 'no policy allows x (team sales) data.access on finance.x',
    });
    expect(evaluateAll(EMPTY_POLICY_SET, fin, DATA_ACCESS, [])).toMatchObject({ allowed: true });
  });

  it('matches exact names, * and prefix.*', () => {
    expect(matches('a.*', 'a')).toBe(true);
    expect(matches('a.*', 'a.b.c')).toBe(true);
    expect(matches('a.*', 'ab')).toBe(false);
    expect(matches('*', 'anything')).toBe(true);
  });

  it('rejects a malformed policy set naming the field', () => {
    expect(() => parsePolicySet({ version: 1, policies: [{ id: 'p', effect: 'maybe', subjects: {}, scopes: [] }] }, 'p.json')).toThrow(
      /policies\[0\]\.effect: .*policies\[0\]\.subjects: name agents or teams.*policies\[0\]\.scopes: Too small/,
    );
    expect(() => parsePolicySet('version: [', 'bad.yaml')).toThrow(/invalid policy set in bad.yaml: \(root\): not valid JSON or YAML/);
  });
});
