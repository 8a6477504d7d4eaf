export * from './stock';
export * from './numbering';
export * from './locks';
export * from './register';
