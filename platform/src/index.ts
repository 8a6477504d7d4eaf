export * from './federation';
export * from './relay';
export * from './supergraph';
export * from './relay-health';
export * from './simulators';
