/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  // jose and other ESM-only packages are compiled to CommonJS like our own sources.
  transformIgnorePatterns: ['/node_modules/(?!(jose|lru-cache)/)'],
  testMatch: ['**/?(*.)+(test|int.test).ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/testkit/src/global-setup.mjs',
  globalTeardown: '<rootDir>/testkit/src/global-teardown.mjs',
  testTimeout: 60000,
  maxWorkers: 2,
};
