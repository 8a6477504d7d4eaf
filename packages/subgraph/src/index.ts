export * from './server';
export * from './runtime';
export * from './context';
export * from './define';
export * from './policy';
export * from './witness';
