export { testInfra, infraToEnv, INFRA_ENV_KEYS, type TestInfra } from './infra/test-infra';
export { uniqueName } from './isolation/unique-name';
export { createTestSchema, dropTestSchema, urlWithSearchPath } from './postgres/test-schema';
export { clearNeo4jPrefix, type ClearNeo4jOptions } from './neo4j/neo4j-isolation';
export { expectEventually, type EventuallyOptions } from './wait/expect-eventually';
export { spawnApp, TEST_LOG_DIR, type SpawnAppOptions, type SpawnedApp } from './process/spawn-app';
export { freePort } from './net/free-port';
