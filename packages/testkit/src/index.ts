export * from './database';
export * from './platform';
export * from './factories';
