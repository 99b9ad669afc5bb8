// Unit tests of every project in one jest run (no infrastructure).
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const projects = ['apps', 'libs'].flatMap((dir) =>
  readdirSync(join(root, dir))
    .map((name) => join(root, dir, name, 'jest.config.ts'))
    .filter((config) => existsSync(config)),
);

export default { rootDir: root, projects, maxWorkers: 2 };
