import { createLogger, loadEnv } from '@umi/kit';
import { bindSql, createOwnerPool, inTransaction, pgExecutor, sharedTables, sql } from '@umi/db';
import { archiveAuditLogs } from '../subgraphs/tenant/src/jobs/audit-archive';
import { anonymiseInactivePatients } from '../subgraphs/pharmacy/src/jobs/retention';

/**
 * `npm run retention`: one pass of data retention over every tenant, each under its own settings:
 * audit entries past `auditLogRetentionDays` move to the archive, patients inactive for
 * `patientInactivityRetentionYears` are anonymised. Safe to run again (a second pass does nothing)
 * and beside the API. A tenant that fails is logged and the others still run; the exit code is 1
 * when any failed.
 */
async function main() {
  const env = loadEnv();
  const logger = createLogger('retention', env.LOG_LEVEL);
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  // A maintenance job across every tenant, like migrations: the owner's pool, not a request's scope.
  const pool = createOwnerPool(env.DATABASE_URL);
  let failed = 0;
  const totals = { archived: 0, anonymised: 0, keptForRegister: 0 };
  try {
    const client = await pool.connect();
    const tenants = await inTransaction(client, async () => {
      // The shared tenants table is under row-level security: list it as the platform.
      await client.query(`SELECT set_config('app.platform', 'on', true)`);
      return bindSql(pgExecutor(client), null).query<{ id: string; schemaName: string }>(
        sql`SELECT id::text, schema_name AS "schemaName" FROM ${sharedTables.tenants} WHERE deleted_at IS NULL ORDER BY schema_name`,
      );
    }).finally(() => client.release());
    const now = new Date();
    for (const tenant of tenants) {
      try {
        const audit = await archiveAuditLogs(pool, tenant, now, logger);
        const patients = await anonymiseInactivePatients(pool, tenant, now, logger);
        totals.archived += audit.archived;
        totals.anonymised += patients.anonymised;
        totals.keptForRegister += patients.keptForRegister;
      } catch (err) {
        failed += 1;
        logger.error({ err, tenantId: tenant.id }, 'retention failed for tenant');
      }
    }
    logger.info({ tenants: tenants.length, failed, ...totals }, 'done');
  } finally {
    await pool.end();
  }
  if (failed > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
