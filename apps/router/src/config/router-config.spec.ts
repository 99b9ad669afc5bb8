import { loadRouterConfig } from './router-config';

const valid = {
  DATABASE_URL: 'postgres://baton:baton@127.0.0.1:5432/baton',
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
  BATON_API_KEYS: 'a-key-of-sixteen-chars-or-more',
};

describe('router configuration', () => {
  it('parses a valid environment with defaults', () => {
    const config = loadRouterConfig(valid);
    expect(config).toMatchObject({
      port: 3100,
      host: '127.0.0.1',
      dbSchema: 'router',
      kafkaBrokers: ['127.0.0.1:9092', '127.0.0.1:9093'],
      topicPrefix: '',
      maxAttempts: 3,
    });
  });

  it('takes ROUTER_PORT over PORT over the default', () => {
    expect(loadRouterConfig({ ...valid, PORT: '4000' }).port).toBe(4000);
    expect(loadRouterConfig({ ...valid, PORT: '4000', ROUTER_PORT: '4001' }).port).toBe(4001);
  });

  it('never caches agents for longer than the heartbeat timeout', () => {
    expect(loadRouterConfig(valid).agentCacheMs).toBe(500);
    expect(loadRouterConfig({ ...valid, ROUTER_AGENT_TIMEOUT_MS: '300' }).agentCacheMs).toBe(300);
    expect(loadRouterConfig({ ...valid, ROUTER_AGENT_CACHE_MS: '0' }).agentCacheMs).toBe(0);
    expect(() => loadRouterConfig({ ...valid, ROUTER_AGENT_CACHE_MS: '-1' })).toThrow(/ROUTER_AGENT_CACHE_MS/);
  });

  it('names every invalid or missing variable', () => {
    expect(() => loadRouterConfig({ KAFKA_BROKERS: 'no-port', BATON_API_KEYS: 'short' })).toThrow(
      /DATABASE_URL: required.*KAFKA_BROKERS\[0\]: must be host:port.*BATON_API_KEYS\[0\]: API keys must be at least 16 characters/,
    );
  });
});
