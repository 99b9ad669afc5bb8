import { infraToEnv, testInfra } from './test-infra';

describe('testInfra', () => {
  it('reads the endpoints exported by globalSetup', () => {
    const infra = testInfra({
      KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
      DATABASE_URL: 'postgres://baton:baton@127.0.0.1:5432/baton',
      NEO4J_URI: 'bolt://127.0.0.1:7687',
      NEO4J_PASSWORD: 'secret-pw',
    });
    expect(infra).toEqual({
      kafka: { brokers: ['127.0.0.1:9092', '127.0.0.1:9093'] },
      postgres: { url: 'postgres://baton:baton@127.0.0.1:5432/baton' },
      neo4j: { uri: 'bolt://127.0.0.1:7687', user: 'neo4j', password: 'secret-pw' },
    });
    expect(infraToEnv(infra)['KAFKA_BROKERS']).toBe('127.0.0.1:9092,127.0.0.1:9093');
  });

  it('names the missing variables and how to get them when globalSetup did not run', () => {
    expect(() => testInfra({ DATABASE_URL: 'postgres://x' })).toThrow(
      /KAFKA_BROKERS, NEO4J_URI not set[\s\S]*jest\.integration\.config\.ts/,
    );
  });
});
