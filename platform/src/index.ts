export * from './federation';
export * from './relay';
export * from './supergraph';
export * from './simulators';
