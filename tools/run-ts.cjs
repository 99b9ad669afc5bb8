#!/usr/bin/env node
// Runs a TypeScript entry point from source. swc-node compiles on the fly with
// the workspace's path aliases and decorator metadata, so scripts, apps spawned
// by tests and `npm start` all run the same code without a bundling step.
'use strict';
const path = require('node:path');

const root = path.resolve(__dirname, '..');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(root, 'tsconfig.base.json');

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node tools/run-ts.cjs <entry.ts> [args...]');
  process.exit(2);
}
require('@swc-node/register');
process.argv = [process.argv[0], path.resolve(entry), ...rest];
require(path.resolve(entry));
