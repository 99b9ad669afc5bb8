import { taskContextOf } from './in-flight-tasks';
import { deterministicUuid } from '../graph/deterministic-uuid';

describe('task context convention (input.entities / input.contextScopes)', () => {
  it('reads the entities and scopes of a task input, ignoring malformed entries', () => {
    expect(
      taskContextOf({
        entities: [{ kind: 'Service', id: 'checkout-api' }, { kind: 'service', id: 'x' }, 'junk'],
        contextScopes: ['ops'],
        other: 1,
      }),
    ).toEqual({ entities: [{ kind: 'Service', id: 'checkout-api' }], scopes: ['ops'] });
  });

  it("reads them inside the router's step input too ({ input, params })", () => {
    expect(
      taskContextOf({ input: { entities: [{ kind: 'Service', id: 'checkout-api' }], contextScopes: ['ops'] }, params: { depth: 2 } }),
    ).toEqual({ entities: [{ kind: 'Service', id: 'checkout-api' }], scopes: ['ops'] });
    // The top level wins when both carry them.
    expect(
      taskContextOf({ entities: [{ kind: 'Team', id: 'sre' }], input: { entities: [{ kind: 'Service', id: 'checkout-api' }] } }),
    ).toEqual({ entities: [{ kind: 'Team', id: 'sre' }], scopes: [] });
    expect(taskContextOf({ input: 'text' })).toBeUndefined();
  });

  it('tracks nothing for inputs without entities', () => {
    expect(taskContextOf({ document: 'MSA' })).toBeUndefined();
    expect(taskContextOf('text')).toBeUndefined();
    expect(taskContextOf({ entities: [{ kind: 'bad', id: '' }] })).toBeUndefined();
  });
});

describe('deterministicUuid', () => {
  it('gives one stable v5-shaped id per name', () => {
    expect(deterministicUuid('a')).toBe(deterministicUuid('a'));
    expect(deterministicUuid('a')).not.toBe(deterministicUuid('b'));
    expect(deterministicUuid('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
