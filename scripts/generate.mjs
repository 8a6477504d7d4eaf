// `npm run generate`: everything generated from a source of truth, none of it committed.
// 1. Prisma clients (shared and tenant schemas) without a native engine: `prisma generate` never
//    runs the schema engine, but the CLI insists on finding one; pointing
//    PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies it (see the README).
// 2. Resolver types of each subgraph from its SDL (GraphQL Code Generator, codegen.ts), and the
//    typed client with the persisted-operations manifest (clients/src/generated/typed/) over the
//    API schema printed from the supergraph (clients/generated/schema.graphql).
// 3. The browser pages the gateway serves (GraphiQL and the dashboard), bundled into dist/web/.
//    `--prisma-only` (the production image's first step) skips 2 and 3; `--web` runs 2 and 3 alone.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { writeApiSchema } from './api-schema.mjs';
import { buildWeb } from './build-web.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    process.stdout.write(r.stdout);
    process.exit(r.status ?? 1);
  }
}

if (!process.argv.includes('--web')) {
  for (const schema of ['prisma/shared.prisma', 'prisma/tenant.prisma']) {
    run([join(root, 'node_modules/prisma/build/index.js'), 'generate', '--schema', schema]);
  }
}
if (!process.argv.includes('--prisma-only')) {
  writeApiSchema(root);
  run([join(root, 'node_modules/@graphql-codegen/cli/cjs/bin.js'), '--config', 'codegen.ts']);
  await buildWeb(root);
}
