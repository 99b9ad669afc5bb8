import neo4j from 'neo4j-driver';

import { testInfra, type TestInfra } from '../infra/test-infra';

export interface ClearNeo4jOptions {
  /** String property whose prefix also marks a test's nodes; default `id`. */
  property?: string;
  infra?: TestInfra;
}

/**
 * Community Edition has a single database, so tests isolate by prefix: this deletes every
 * node (and its relationships) that has a label starting with `prefix` or whose
 * `property` starts with it. Returns how many nodes were deleted.
 */
export async function clearNeo4jPrefix(prefix: string, options: ClearNeo4jOptions = {}): Promise<number> {
  if (prefix.length < 3) throw new Error('clearNeo4jPrefix: prefix too short to be a test prefix');
  const property = options.property ?? 'id';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(property)) throw new Error(`clearNeo4jPrefix: invalid property ${property}`);
  const infra = options.infra ?? testInfra();
  const driver = neo4j.driver(infra.neo4j.uri, neo4j.auth.basic(infra.neo4j.user, infra.neo4j.password));
  try {
    const result = await driver.executeQuery(
      `MATCH (n)
       WHERE any(l IN labels(n) WHERE l STARTS WITH $prefix)
          OR (n.${property} IS :: STRING AND n.${property} STARTS WITH $prefix)
       DETACH DELETE n
       RETURN count(n) AS deleted`,
      { prefix },
    );
    const deleted = result.records[0]?.get('deleted');
    return neo4j.isInt(deleted) ? deleted.toNumber() : Number(deleted ?? 0);
  } finally {
    await driver.close();
  }
}
