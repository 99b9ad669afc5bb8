import { DETERMINISTIC_MODEL, deterministicAnswer, stableStringify } from './deterministic-model';

describe('deterministic model', () => {
  it('gives the same answer for the same capability and input, whatever the key order', () => {
    const a = deterministicAnswer('analysis', { b: 1, a: [1, 2] });
    const b = deterministicAnswer('analysis', { a: [1, 2], b: 1 });
    expect(a).toEqual(b);
  });

  it('answers differently for another capability or input', () => {
    const base = deterministicAnswer('analysis', { a: 1 });
    expect(deterministicAnswer('summary', { a: 1 }).output).not.toEqual(base.output);
    expect(deterministicAnswer('analysis', { a: 2 }).output).not.toEqual(base.output);
  });

  it('says that it comes from the built-in model and keeps confidence within (0, 1)', () => {
    const answer = deterministicAnswer('analysis', 'text');
    expect(answer.output).toMatchObject({ model: DETERMINISTIC_MODEL, generatedBy: expect.stringContaining('deterministic') });
    expect(answer.confidence).toBeGreaterThanOrEqual(0.6);
    expect(answer.confidence).toBeLessThan(1);
    expect(answer.inputTokens).toBeGreaterThan(0);
  });

  it('serialises objects with sorted keys', () => {
    expect(stableStringify({ b: { d: 1, c: 2 }, a: null })).toBe('{"a":null,"b":{"c":2,"d":1}}');
  });
});
