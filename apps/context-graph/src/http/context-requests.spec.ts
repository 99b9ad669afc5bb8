import { ContractValidationError } from '@baton/contracts';
import { parseExportParams, parseFactsQuery, parseWorkflowHeader } from './context-requests';

function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ContractValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ContractValidationError');
}

describe('GET /facts?q', () => {
  it.each([['   '], ['\t\n'], ['\u3000']])('refuses whitespace-only text %j, naming q (Lucene cannot parse it)', (q) => {
    expect(issuesOf(() => parseFactsQuery({ q }))).toEqual(['q: must contain something to search for, not only whitespace']);
  });

  it('searches text with something in it, surrounded by whitespace or not', () => {
    expect(parseFactsQuery({ q: '  pool  ' })).toEqual({ kind: 'search', text: '  pool  ', limit: 50 });
  });
});

describe('GET /workflows/:id/context?limit', () => {
  it('defaults to 100 and accepts 1..500, naming limit otherwise', () => {
    expect(parseExportParams({})).toEqual({ limit: 100 });
    expect(parseExportParams({ limit: '500' })).toEqual({ limit: 500 });
    expect(issuesOf(() => parseExportParams({ limit: '501' }))).toEqual([expect.stringMatching(/^limit: /)]);
    expect(issuesOf(() => parseExportParams({ limit: '0' }))).toEqual([expect.stringMatching(/^limit: /)]);
    expect(issuesOf(() => parseExportParams({ limit: 'all' }))).toEqual([expect.stringMatching(/^limit: /)]);
  });
});

describe('X-Baton-Workflow-Id', () => {
  it('is absent or a uuid; anything else is refused naming the header', () => {
    const id = '0b6f3c1e-7a2d-4f5e-9c8b-1d2e3f4a5b6c';
    expect(parseWorkflowHeader(undefined)).toBeUndefined();
    expect(parseWorkflowHeader(id)).toBe(id);
    for (const value of ['', 'wf-1', `${id}, ${id}`, [id, id]]) {
      expect(issuesOf(() => parseWorkflowHeader(value))).toEqual(['X-Baton-Workflow-Id: must be a uuid']);
    }
  });
});
