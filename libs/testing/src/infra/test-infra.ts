/** Infrastructure endpoints as the test process sees them (set by the jest global setup). */
export interface TestInfra {
  kafka: { brokers: string[] };
  postgres: { url: string };
  neo4j: { uri: string; user: string; password: string };
}

export const INFRA_ENV_KEYS = ['KAFKA_BROKERS', 'DATABASE_URL', 'NEO4J_URI'] as const;

/**
 * Reads the endpoints that globalSetup exported. Throws a clear error instead of letting
 * a client fall back to localhost defaults when the integration config was not used.
 */
export function testInfra(env: NodeJS.ProcessEnv = process.env): TestInfra {
  const missing = INFRA_ENV_KEYS.filter((k) => (env[k] ?? '').trim() === '');
  if (missing.length > 0) {
    throw new Error(
      `testInfra(): ${missing.join(', ')} not set. Run integration tests with ` +
        '`npx jest -c tools/jest/jest.integration.config.ts` (its globalSetup provisions Kafka, Postgres and Neo4j), ' +
        'or export them (`npm run infra:up && eval "$(node tools/run-ts.cjs tools/infra/cli.ts status --env)"`).',
    );
  }
  return {
    kafka: {
      brokers: (env['KAFKA_BROKERS'] as string)
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== ''),
    },
    postgres: { url: env['DATABASE_URL'] as string },
    neo4j: { uri: env['NEO4J_URI'] as string, user: env['NEO4J_USER'] || 'neo4j', password: env['NEO4J_PASSWORD'] ?? '' },
  };
}

/** The environment variables every Baton process reads its infrastructure from. */
export function infraToEnv(infra: TestInfra): Record<string, string> {
  return {
    KAFKA_BROKERS: infra.kafka.brokers.join(','),
    DATABASE_URL: infra.postgres.url,
    NEO4J_URI: infra.neo4j.uri,
    NEO4J_USER: infra.neo4j.user,
    NEO4J_PASSWORD: infra.neo4j.password,
  };
}
