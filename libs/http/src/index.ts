export * from './api-key.guard';
export * from './http-error.filter';
