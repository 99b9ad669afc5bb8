import { validateOutput, type OutputSchema } from './output-schema';

const schema: OutputSchema = {
  type: 'object',
  required: ['summary', 'findings'],
  additionalProperties: false,
  properties: {
    summary: { type: 'string', minLength: 1 },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    findings: {
      type: 'array',
      maxItems: 2,
      items: { type: 'object', required: ['severity'], properties: { severity: { enum: ['low', 'high'] }, count: { type: 'integer' } } },
    },
  },
};

describe('validateOutput (the JSON Schema subset of agent definitions)', () => {
  it('accepts a matching value', () => {
    expect(validateOutput(schema, { summary: 's', confidence: 0.4, findings: [{ severity: 'low', count: 2 }] })).toEqual([]);
  });

  it('names every violation by its JSON path', () => {
    expect(validateOutput(schema, { summary: '', confidence: 2, findings: [{ severity: 'mid', count: 1.5 }, {}, {}], extra: 1 })).toEqual([
      '$.summary: must have at least 1 characters',
      '$.confidence: must be <= 1',
      '$.findings: must have at most 2 items',
      '$.findings[0].severity: must be one of "low", "high"',
      '$.findings[0].count: must be integer, got number',
      '$.findings[1].severity: required',
      '$.findings[2].severity: required',
      '$.extra: is not allowed',
    ]);
  });

  it('reports a wrong type and missing fields', () => {
    expect(validateOutput(schema, 'text')).toEqual(['$: must be object, got string']);
    expect(validateOutput(schema, {})).toEqual(['$.summary: required', '$.findings: required']);
    expect(validateOutput({ type: ['string', 'null'] }, null)).toEqual([]);
  });

  it('counts only own fields: inherited names neither satisfy required nor pass as declared properties', () => {
    const strict: OutputSchema = {
      type: 'object',
      required: ['constructor'],
      additionalProperties: false,
      // Built from entries: in an object literal, `constructor` does not take the record's value type.
      properties: Object.fromEntries([
        ['summary', { type: 'string' }],
        ['constructor', { type: 'integer' }],
      ] satisfies Array<[string, OutputSchema]>),
    };
    expect(validateOutput(strict, {})).toEqual(['$.constructor: required']);
    expect(validateOutput(strict, { constructor: 1, summary: 's', toString: [1] })).toEqual(['$.toString: is not allowed']);
  });
});
