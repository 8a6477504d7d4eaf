import { parseArgs } from 'node:util';
import { createLogger, loadMigrationEnv } from '@umi/kit';
import { createOwnerPool, exportTenant } from '@umi/db';

/**
 * `npm run tenant:export -- <subdomain or id> [--out file]`: one tenant, its schema and its shared
 * rows, in one consistent snapshot, to a gzip'd file (default `<subdomain>-<UTC time>.umi.gz`).
 */
async function main() {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
  const ref = positionals[0];
  if (!ref) throw new Error('usage: npm run tenant:export -- <subdomain or id> [--out file]');
  const env = loadMigrationEnv();
  const logger = createLogger('tenant-export', env.LOG_LEVEL);
  const pool = createOwnerPool(env.DATABASE_URL);
  try {
    const file = values.out ?? `${ref}-${new Date().toISOString().replace(/[:.]/g, '-')}.umi.gz`;
    const { header, counts } = await exportTenant(pool, ref, file);
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    logger.info({ file, tenantId: header.tenantId, subdomain: header.subdomain, tables: Object.keys(counts).length, rows }, 'tenant exported');
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
