/** One SQL statement with its positional parameters ($1, $2, ...). */
export interface SqlStatement {
  sql: string;
  values: readonly unknown[];
}

/**
 * Several writes of one state change sent as one statement: each becomes a
 * data-modifying CTE, `final` is the statement's own query and can read the
 * CTE named `name` of the statement at the same index (`w0`, `w1`, ...).
 * Postgres runs them all on one snapshot, so they must not touch the same rows
 * and cannot see each other's effects. Placeholders are renumbered by
 * rewriting `$n`: statements must carry every value as a parameter (no `$`
 * inside literals), which generated SQL here always does.
 */
export function combineStatements(writes: readonly SqlStatement[], final: (names: readonly string[]) => SqlStatement): SqlStatement {
  const values: unknown[] = [];
  const shift = (statement: SqlStatement): string => {
    const offset = values.length;
    values.push(...statement.values);
    return statement.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  };
  const names = writes.map((_, index) => `w${index}`);
  const ctes = writes.map((statement, index) => `${names[index]} AS (${shift(statement)})`);
  const tail = shift(final(names));
  return { sql: ctes.length === 0 ? tail : `WITH ${ctes.join(',\n')}\n${tail}`, values };
}
