export * from './policy-set';
export * from './evaluate';
