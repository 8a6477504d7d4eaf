import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/generated/**', 'coverage/**', '.umi-data/**', 'supergraph.graphql'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'writable', globalThis: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read the environment only in packages/kit/src/env.ts' }],
    },
  },
  {
    files: ['packages/kit/src/env.ts', 'scripts/**', 'bench/**', 'packages/testkit/**', 'packages/db/src/embedded-postgres.mjs', '**/*.test.ts', 'jest.config.js'],
    rules: { 'no-restricted-properties': 'off' },
  },
  { files: ['jest.config.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
