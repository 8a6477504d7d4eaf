// Generates the Prisma clients (shared and tenant schemas) without a native engine.
// `prisma generate` never runs the schema engine, but the CLI insists on finding one;
// pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies it (see ENVIRONMENT.md).
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
for (const schema of ['prisma/shared.prisma', 'prisma/tenant.prisma']) {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/prisma/build/index.js'), 'generate', '--schema', schema], {
    cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) {
    process.stdout.write(r.stdout);
    process.exit(r.status ?? 1);
  }
}
