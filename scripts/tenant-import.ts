import { parseArgs } from 'node:util';
import { createFieldCipher, createLogger, loadMigrationEnv, parseKeyring } from '@umi/kit';
import Redis from 'ioredis';
import { createCache, createOwnerPool, importTenant } from '@umi/db';
import { rekeyTenantCopy } from '../subgraphs/pharmacy/src/jobs/reencrypt';
import { rekeyMobileMoneyCopy } from '../subgraphs/pos/src/jobs/rekey-mobile-money';

/**
 * `npm run tenant:import -- <file> [--subdomain name] [--replace | --as-copy]`: restores a
 * `tenant:export` file into DATABASE_URL's database (migrated first with `npm run db:migrate`).
 *   (no flag)    the tenant must not exist there (another database, or after it was deleted);
 *   --replace    replaces the live tenant of the same id (a point-in-time restore), atomically;
 *   --as-copy    a new tenant beside the original (new ids; needs PATIENT_DATA_KEYS to re-encrypt).
 */
async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { subdomain: { type: 'string' }, replace: { type: 'boolean' }, 'as-copy': { type: 'boolean' } },
  });
  const file = positionals[0];
  if (!file) throw new Error('usage: npm run tenant:import -- <file> [--subdomain name] [--replace | --as-copy]');
  const env = loadMigrationEnv();
  const logger = createLogger('tenant-import', env.LOG_LEVEL);
  const keys = process.env.PATIENT_DATA_KEYS;
  const pool = createOwnerPool(env.DATABASE_URL);
  try {
    const result = await importTenant(pool, file, {
      subdomain: values.subdomain,
      replace: values.replace,
      asCopy: values['as-copy'],
      rekey: keys ? rekeyAll(createFieldCipher(parseKeyring(keys))) : undefined,
      appRole: env.DATABASE_APP_ROLE,
    });
    logger.info({ file, tenantId: result.tenantId, subdomain: result.subdomain }, 'tenant restored');
    // A restore over the live tenant changed its data behind every cache: replace its versions.
    const redisUrl = process.env.REDIS_URL;
    if (values.replace && redisUrl) {
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        if (!(await createCache({ redis }).bump(result.tenantId, ['tenant']))) logger.error('could not replace the cache versions of the tenant: restart the subgraphs');
      } finally {
        redis.disconnect();
      }
    } else if (values.replace) {
      logger.warn('no REDIS_URL: a running single-process platform keeps cached reads of this tenant until CACHE_TTL_SECONDS; restart it');
    }
  } finally {
    await pool.end();
  }
}

/** Every owner of encrypted fields re-keys its own: patients' history (pharmacy), providers' credentials (pos). */
function rekeyAll(cipher: ReturnType<typeof createFieldCipher>) {
  const steps = [rekeyTenantCopy(cipher), rekeyMobileMoneyCopy(cipher)];
  return async (...args: Parameters<ReturnType<typeof rekeyTenantCopy>>) => {
    for (const step of steps) await step(...args);
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
