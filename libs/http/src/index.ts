export * from './api-key.guard';
export * from './http-error.filter';
export * from './uuid-param.pipe';
