export * from './federation';
export * from './relay';
export * from './relay-health';
export * from './schema-docs';
export * from './supergraph';
export * from './fiscal';
export * from './simulators';
