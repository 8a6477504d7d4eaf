import { createLogger, loadEnv } from '@umi/kit';
import { createOwnerPool } from '@umi/db';
import { purgeControlledRegister } from '../subgraphs/pharmacy/src/jobs/register-retention';

/** `npx tsx scripts/purge-controlled-register.ts`: deletes controlled-register lines past each tenant's retention period. */
async function main() {
  const env = loadEnv();
  const logger = createLogger('purge-controlled-register', env.LOG_LEVEL);
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  // A maintenance job across every tenant, like migrations: the owner's pool, not a request's scope.
  const pool = createOwnerPool(env.DATABASE_URL);
  try {
    const { deleted } = await purgeControlledRegister(pool, logger);
    logger.info({ deleted }, 'done');
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
