import { loadContextGraphConfig } from './context-graph-config';

const valid = {
  NEO4J_URI: 'bolt://127.0.0.1:7687',
  NEO4J_PASSWORD: 'secret',
  KAFKA_BROKERS: '127.0.0.1:9092',
  BATON_API_KEYS: 'a-key-of-sixteen-chars-or-more',
};

describe('context-graph configuration', () => {
  it('parses a valid environment with defaults and adds user kinds to the built-in ones', () => {
    const config = loadContextGraphConfig({
      ...valid,
      BATON_TOPIC_PREFIX: 't1.',
      CONTEXT_ENTITY_KINDS: 'Repository, FeatureFlag',
      CONTEXT_API_KEY_SCOPES: 'a-key-of-sixteen-chars-or-more=customer-data+ops',
    });
    expect(config).toMatchObject({ port: 3300, namespace: 't1.', neo4j: { user: 'neo4j' } });
    expect([...config.entityKinds]).toEqual(expect.arrayContaining(['Service', 'Agent', 'Repository', 'FeatureFlag']));
    expect(config.relationshipTypes.has('DEPENDS_ON')).toBe(true);
    expect(config.apiKeyScopes.get('a-key-of-sixteen-chars-or-more')).toEqual(['customer-data', 'ops']);
  });

  it('defaults the batch size, writes in flight and push poll, and accepts only the known test crash point', () => {
    expect(loadContextGraphConfig(valid)).toMatchObject({
      batchMax: 2_000,
      writesInFlight: 2,
      pushPollMs: 500,
      testCrashAt: undefined,
    });
    expect(loadContextGraphConfig({ ...valid, CONTEXT_WRITES_IN_FLIGHT: '1' }).writesInFlight).toBe(1);
    expect(() => loadContextGraphConfig({ ...valid, CONTEXT_WRITES_IN_FLIGHT: '0' })).toThrow(/CONTEXT_WRITES_IN_FLIGHT/);
    expect(loadContextGraphConfig({ ...valid, CONTEXT_TEST_CRASH_AT: 'after-facts-commit' }).testCrashAt).toBe('after-facts-commit');
    expect(() => loadContextGraphConfig({ ...valid, CONTEXT_TEST_CRASH_AT: 'anywhere' })).toThrow(/CONTEXT_TEST_CRASH_AT/);
  });

  it('names every invalid variable', () => {
    expect(() =>
      loadContextGraphConfig({
        ...valid,
        NEO4J_URI: 'http://x',
        CONTEXT_ENTITY_KINDS: 'lower',
        CONTEXT_API_KEY_SCOPES: 'short=x',
      }),
    ).toThrow(
      /NEO4J_URI: must be a bolt.*CONTEXT_API_KEY_SCOPES\[0\]: must be <api-key>.*CONTEXT_ENTITY_KINDS\[0\]: must be a PascalCase/s,
    );
  });
});
