import { readPath, resolveMapping, type MappingContext } from './input-mapping';

describe('input mapping', () => {
  it('resolves only own fields: an inherited member is missing like any absent field (null)', () => {
    const context: MappingContext = { input: { list: [1, 2] }, previous: { label: 'a' }, steps: { extract: { facts: [1] } } };
    expect(
      resolveMapping(
        {
          ctor: '$.previous.constructor',
          str: '$.input.toString',
          proto: '$.input.__proto__',
          nested: '$.steps.extract.hasOwnProperty',
          step: '$.steps.constructor',
        },
        context,
      ),
    ).toEqual({ ctor: null, str: null, proto: null, nested: null, step: null });

    // Own fields of the same names, and array items by index, still resolve.
    expect(readPath({ toString: { x: 1 } }, ['toString', 'x'])).toBe(1);
    expect(
      resolveMapping(['$.input.constructor', '$.input.list[1]', '$.input.list[5]', '$.steps.constructor.v'], {
        ...context,
        input: { constructor: 'mine', list: [1, 2] },
        steps: { constructor: { v: 3 } },
      }),
    ).toEqual(['mine', 2, null, 3]);
  });
});
