export * from './federation';
export * from './relay';
export * from './relay-health';
export * from './supergraph';
export * from './schema-docs';
export * from './schema-changes';
