// `npm run generate`: everything generated from a source of truth, none of it committed.
// 1. Prisma clients (shared and tenant schemas) without a native engine: `prisma generate` never
//    runs the schema engine, but the CLI insists on finding one; pointing
//    PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies it (see the README).
// 2. Resolver types of each subgraph from its SDL (GraphQL Code Generator, codegen.ts). Types only:
//    nothing imports them at run time, so the production image (`--prisma-only`) skips them.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

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

for (const schema of ['prisma/shared.prisma', 'prisma/tenant.prisma']) {
  run([join(root, 'node_modules/prisma/build/index.js'), 'generate', '--schema', schema]);
}
if (!process.argv.includes('--prisma-only')) {
  run([join(root, 'node_modules/@graphql-codegen/cli/cjs/bin.js'), '--config', 'codegen.ts']);
}
