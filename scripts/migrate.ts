import { createLogger, loadMigrationEnv } from '@umi/kit';
import { createOwnerPool, migrateAll } from '@umi/db';

/** `npm run db:migrate`: shared schema, then every tenant schema, under the advisory lock. */
async function run() {
  const env = loadMigrationEnv();
  const logger = createLogger('migrate', env.LOG_LEVEL);
  const pool = createOwnerPool(env.DATABASE_URL);
  try {
    const report = await migrateAll(pool, env.DATABASE_APP_ROLE);
    const tenantCount = Object.keys(report.tenants).length;
    logger.info({ shared: report.shared, tenants: tenantCount }, 'migrations applied');
  } finally {
    await pool.end();
  }
}

run().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
