export * from './definitions';
export * from './runner';
export * from './process';
