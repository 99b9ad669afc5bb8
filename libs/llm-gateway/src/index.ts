export * from './types';
export * from './errors';
export * from './config';
export * from './gateway';
export { DETERMINISTIC_MODEL, deterministicAnswer, stableStringify } from './providers/deterministic-model';
