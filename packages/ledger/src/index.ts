export * from './stock';
export * from './numbering';
export * from './locks';
export * from './quarantine';
export * from './register';
