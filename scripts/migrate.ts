import { parseArgs } from 'node:util';
import { createLogger, loadMigrationEnv } from '@umi/kit';
import { createOwnerPool, migrateAll, ServerPools, serverUrls } from '@umi/db';

/**
 * `npm run db:migrate [-- --concurrency N]`: the shared schema (under its exclusive lock, only when
 * it has something to apply), then every tenant schema that is behind (found in one query), N at a
 * time, each in its own transaction. Safe beside a running platform and beside another run;
 * interrupted, it resumes where it stopped.
 */
async function run() {
  const { values } = parseArgs({ options: { concurrency: { type: 'string', default: '4' } } });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error('--concurrency: a whole number from 1 to 64');
  const env = loadMigrationEnv();
  const logger = createLogger('migrate', env.LOG_LEVEL);
  const pool = createOwnerPool(env.DATABASE_URL, concurrency + 1);
  // Tenant schemas on further servers are migrated there (their versions recorded on the primary).
  const servers = new ServerPools(serverUrls(env.DATABASE_URL, env.TENANT_DATABASE_URLS), (url) => createOwnerPool(url, concurrency + 1), pool);
  const started = Date.now();
  let lastLog = 0;
  try {
    const report = await migrateAll(pool, env.DATABASE_APP_ROLE, {
      concurrency,
      serverPool: (server) => servers.pool(server),
      onProgress(done, total, schema) {
        if (done === total || Date.now() - lastLog > 2000) {
          lastLog = Date.now();
          logger.info({ done, total, schema }, 'tenant schemas migrated');
        }
      },
    });
    logger.info({ shared: report.shared, checked: report.checked, migrated: report.pending, ms: Date.now() - started }, 'migrations applied');
  } finally {
    await servers.close();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
