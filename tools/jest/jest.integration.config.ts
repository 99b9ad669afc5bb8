/* eslint-disable */
// Integration and end-to-end tests: one jest run over every project, with real
// Kafka, Postgres and Neo4j provisioned once (globalSetup) and shared.
const projects = ['contracts', 'bus', 'persistence', 'telemetry', 'testing', 'router', 'agent-runner', 'e2e'];
const roots: Record<string, string> = {
  contracts: 'libs/contracts', bus: 'libs/bus', persistence: 'libs/persistence', telemetry: 'libs/telemetry',
  testing: 'libs/testing', router: 'apps/router', 'agent-runner': 'apps/agent-runner', e2e: 'apps/e2e',
};
export default {
  rootDir: '../..',
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 120_000,
  projects: projects.map((name) => ({
    displayName: name,
    preset: '<rootDir>/tools/jest/jest.preset.js',
    rootDir: '<rootDir>',
    testMatch: [`<rootDir>/${roots[name]}/src/**/*.int-spec.ts`, `<rootDir>/${roots[name]}/test/**/*.int-spec.ts`],
  })),
};
