import { UuidParam } from './uuid-param.pipe';
import { toHttpErrorBody } from './http-error.filter';

describe('UuidParam', () => {
  it('passes a uuid through, in either case', () => {
    const pipe = new UuidParam('id');
    expect(pipe.transform('2d13071d-278d-474a-b4b6-61b3ffa31d6c')).toBe('2d13071d-278d-474a-b4b6-61b3ffa31d6c');
    expect(pipe.transform('2D13071D-278D-474A-B4B6-61B3FFA31D6C')).toBe('2D13071D-278D-474A-B4B6-61B3FFA31D6C');
  });

  it('answers anything else with a 400 naming the parameter and what it got', () => {
    let thrown: unknown;
    try {
      new UuidParam('id').transform('null,null');
    } catch (error) {
      thrown = error;
    }
    expect(toHttpErrorBody(thrown)).toEqual({
      statusCode: 400,
      error: 'validation_failed',
      message: 'invalid path parameter: id: must be a uuid, got "null,null"',
      issues: ['id: must be a uuid, got "null,null"'],
    });
  });

  it('shows at most 64 characters of what it got', () => {
    expect(() => new UuidParam('id').transform('x'.repeat(10_000))).toThrow(`id: must be a uuid, got "${'x'.repeat(64)}…"`);
  });
});
