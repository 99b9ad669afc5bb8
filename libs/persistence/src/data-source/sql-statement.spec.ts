import { combineStatements } from './sql-statement';

describe('combineStatements', () => {
  it('names each write as a CTE and renumbers every placeholder after the ones before it', () => {
    const combined = combineStatements(
      [
        { sql: 'UPDATE a SET x = $2 WHERE id = $1', values: ['a1', 10] },
        { sql: 'INSERT INTO b (id, y) VALUES ($1, $2), ($3, $4) RETURNING id', values: ['b1', 1, 'b2', 2] },
      ],
      (names) => ({ sql: `SELECT id, $1 AS tag FROM ${names[1] ?? ''}`, values: ['t'] }),
    );
    expect(combined.sql).toBe(
      'WITH w0 AS (UPDATE a SET x = $2 WHERE id = $1),\nw1 AS (INSERT INTO b (id, y) VALUES ($3, $4), ($5, $6) RETURNING id)\nSELECT id, $7 AS tag FROM w1',
    );
    expect(combined.values).toEqual(['a1', 10, 'b1', 1, 'b2', 2, 't']);
  });

  it('is the final statement alone when there is nothing to write with it', () => {
    expect(combineStatements([], () => ({ sql: 'SELECT $1', values: [1] }))).toEqual({ sql: 'SELECT $1', values: [1] });
  });

  it('renumbers two-digit placeholders as numbers, not as text', () => {
    const values = Array.from({ length: 11 }, (_, i) => i);
    const combined = combineStatements([{ sql: 'SELECT $1', values: ['x'] }], () => ({ sql: 'SELECT $11, $1', values }));
    expect(combined.sql.endsWith('SELECT $12, $2')).toBe(true);
  });
});
