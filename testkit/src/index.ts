export * from './database';
export * from './platform';
export * from './factories';
export * from './contract';
export * from './ws';
export * from './ledger';
