export * from './start-telemetry';
export * from './with-span';
export * from './trace-context';
export * from './log-context';
export * from './json-logger';
export * from './metrics';
