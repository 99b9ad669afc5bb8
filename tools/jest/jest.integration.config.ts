// Integration and end-to-end tests: one jest run over every project, with real
// Kafka, Postgres and Neo4j provisioned once (globalSetup) and shared.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const projectRoots = ['apps', 'libs'].flatMap((dir) =>
  readdirSync(join(root, dir))
    .map((name) => ({ name, path: join(dir, name) }))
    .filter((project) => existsSync(join(root, project.path, 'project.json'))),
);

export default {
  rootDir: root,
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 120_000,
  projects: projectRoots.map((project) => ({
    displayName: project.name,
    preset: './tools/jest/jest.preset.js',
    rootDir: root,
    testMatch: [`<rootDir>/${project.path}/src/**/*.int-spec.ts`, `<rootDir>/${project.path}/test/**/*.int-spec.ts`],
  })),
};
