import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/generated/**', 'dist/**', 'coverage/**', '.umi-data/**', 'supergraph.graphql'] },
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
    files: ['packages/kit/src/env.ts', 'scripts/**', 'bench/**', 'testkit/**', 'packages/db/src/embedded-postgres.mjs', '**/*.test.ts', 'jest.config.js'],
    rules: { 'no-restricted-properties': 'off' },
  },
  { files: ['jest.config.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    // Browser code (bundled by scripts/build-web.mjs): the page's globals, no Node.
    files: ['dashboard/src/**/*.ts', 'gateway/explorer/**/*.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', HTMLElement: 'readonly', HTMLFormElement: 'readonly', HTMLCanvasElement: 'readonly', FormData: 'readonly' } },
  },
  {
    // Subgraphs and the gateway reach data only through their request's scope: tagged SQL bound to the
    // tenant's schema, Prisma models without raw escape hatches, no pools (issue 10's "tenant-bound SQL").
    files: ['subgraphs/*/src/**/*.ts', 'gateway/src/**/*.ts'],
    // Jobs run outside requests, across every tenant, on the owner's pool (e.g. key rotation).
    ignores: ['**/*.test.ts', 'subgraphs/*/src/jobs/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@umi/db',
              importNames: ['bindSql', 'pgExecutor', 'render', 'TenantClients', 'createAppPool', 'createOwnerPool', 'createSharedClient', 'scopedShared', 'sharedTx', 'tenantDb', 'tenantTx', 'quoteIdent'],
              message: 'services use the request scope (ctx.scope.db, ctx.shared): see packages/db/src/sql.ts',
            },
          ],
          patterns: [{ group: ['@umi/*/src/*', '**/packages/*/src/*'], message: 'import a package by its name and exports map' }],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name=/^\\$(queryRaw|executeRaw)/]", message: 'raw SQL text: use tagged SQL (db.sql / tx.sql with sql`` and tables.*)' },
        { selector: "MemberExpression[property.name=/^(appPool|ownerPool)$/]", message: 'no pools in services: use the request scope' },
      ],
    },
  },
);
