export * from './federation';
export * from './relay';
export * from './relay-health';
export * from './supergraph';
export * from './fiscal';
export * from './simulators';
export * from './schema-docs';
export * from './schema-changes';
