export * from './federation';
export * from './relay';
export * from './supergraph';
export * from './schema-docs';
export * from './schema-changes';
