import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { createLogger, loadMigrationEnv } from '@umi/kit';
import { createCache, createOwnerPool, moveTenant, ServerPools, serverUrls, TENANT_DIRECTORY_CHANNEL } from '@umi/db';

/**
 * `npm run tenant:move -- <tenant> <server> [--keep-old] [--lock-timeout-ms N]`: moves a tenant
 * (id or subdomain) to another database server (database_servers.id; its connection reference
 * must be in TENANT_DATABASE_URLS, or be `primary`). The tenant's writes pause for the copy
 * (TENANT_MOVING, retryable); reads go on. With REDIS_URL every process hears of the switch at
 * once; without, within the directory's 30 s TTL (the move's locks keep the data exact either way).
 *   --keep-old  renames the old schema to moved_<epoch>_<schema> instead of dropping it.
 */
async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'keep-old': { type: 'boolean' }, 'lock-timeout-ms': { type: 'string', default: '30000' } },
  });
  const [tenant, target] = positionals;
  if (!tenant || !target) throw new Error('usage: npm run tenant:move -- <tenant> <server> [--keep-old] [--lock-timeout-ms N]');
  const lockTimeoutMs = Number(values['lock-timeout-ms']);
  if (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 100) throw new Error('--lock-timeout-ms: a whole number of at least 100');
  const env = loadMigrationEnv();
  const logger = createLogger('tenant-move', env.LOG_LEVEL);
  const primary = createOwnerPool(env.DATABASE_URL);
  const servers = new ServerPools(serverUrls(env.DATABASE_URL, env.TENANT_DATABASE_URLS), (url) => createOwnerPool(url), primary);
  const redisUrl = process.env.REDIS_URL;
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 1 }) : null;
  if (!redis) logger.warn('no REDIS_URL: processes see the move within the tenant directory TTL (30 s); writes that reach the old server meanwhile fail with TENANT_MOVING');
  try {
    const report = await moveTenant({
      primary,
      serverPool: (s) => servers.pool(s),
      appRole: env.DATABASE_APP_ROLE,
      tenant,
      target,
      keepOld: values['keep-old'],
      lockTimeoutMs,
      publish: redis ? async (id) => void (await redis.publish(TENANT_DIRECTORY_CHANNEL, id)) : undefined,
    });
    // Cached reads were of the old server's rows, which are the same rows: still, start afresh.
    if (redis) await createCache({ redis }).bump(report.tenantId, ['tenant']);
    const rows = Object.values(report.counts).reduce((a, b) => a + b, 0);
    logger.info({ ...report, counts: undefined, tables: Object.keys(report.counts).length, rows }, 'tenant moved');
  } finally {
    redis?.disconnect();
    await servers.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
