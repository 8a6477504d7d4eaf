export * from './identifiers';
export * from './migrate';
export * from './pools';
export * from './shared-db';
export * from './tenant-clients';
export * from './audit';
export * from './tenant-directory';
export * from './runtime';
