import type { Pool } from 'pg';
import { bindSql, inTransaction, pgExecutor, sql, tables } from '@umi/db';
import type { Logger } from '@umi/kit';
import { AUDIT_LOG_RETENTION_DEFAULT_DAYS, AUDIT_LOG_RETENTION_MIN_DAYS } from '../services/settings';

/** The tenant a retention job works on: its id (for logs) and the schema its data lives in. */
export interface RetentionTenant {
  id: string;
  schemaName: string;
}

/**
 * Audit-log retention for one tenant: moves the entries older than the tenant's
 * `audit_log_retention_days` (never under 90) from `audit_logs` to `audit_log_archive`, oldest
 * first, `batchSize` entries per transaction. Each batch copies its rows into the archive and
 * deletes them from the live table in the same transaction, so an entry is in exactly one of the
 * two whatever stops the job; a second run finds nothing to move. The live table's trigger lets a
 * row go only inside such a transaction, only once it is past the period and only when the archive
 * holds an identical copy (tenant migration 0012). Rows are locked with SKIP LOCKED so two runs on
 * the same tenant share the work. Runs outside any request, on the owner's pool, on the one schema
 * named by `tenant` and no other.
 *
 * `now` is the job's clock; the cutoff is taken from the earlier of it and the database's clock,
 * because the trigger judges age by the latter.
 */
export async function archiveAuditLogs(
  pool: Pool,
  tenant: RetentionTenant,
  now: Date,
  logger: Logger,
  batchSize = 1000,
): Promise<{ archived: number; batches: number }> {
  const client = await pool.connect();
  const db = bindSql(pgExecutor(client), tenant.schemaName);
  let archived = 0;
  let batches = 0;
  try {
    for (;;) {
      const moved = await inTransaction(client, async () => {
        await db.query(sql`SELECT set_config('umi.audit_archive', 'on', true)`);
        const batch = await db.query<{ id: string }>(
          sql`SELECT id::text FROM ${tables.audit_logs}
              WHERE "timestamp" < least(${now.toISOString()}::timestamptz, now()) - make_interval(days => greatest(${AUDIT_LOG_RETENTION_MIN_DAYS}::int, coalesce(
                (SELECT (value #>> '{}')::integer FROM ${tables.tenant_settings} WHERE key = 'audit_log_retention_days'), ${AUDIT_LOG_RETENTION_DEFAULT_DAYS}::int)))
              ORDER BY "timestamp", id
              LIMIT ${batchSize}
              FOR UPDATE SKIP LOCKED`,
        );
        if (batch.length === 0) return 0;
        const ids = batch.map((r) => r.id);
        // An id already archived (a restore that brought both back) keeps its first copy; the
        // trigger then deletes the live row only if the two are identical.
        await db.execute(
          sql`INSERT INTO ${tables.audit_log_archive} (id, entity_type, occurred_at, entry)
              SELECT a.id, a.entity_type, a."timestamp", to_jsonb(a) FROM ${tables.audit_logs} a WHERE a.id = ANY(${ids}::uuid[])
              ON CONFLICT (id) DO NOTHING`,
        );
        return db.execute(sql`DELETE FROM ${tables.audit_logs} WHERE id = ANY(${ids}::uuid[])`);
      });
      if (moved === 0) break;
      archived += moved;
      batches += 1;
      if (moved < batchSize) break;
    }
  } finally {
    client.release();
  }
  if (archived > 0) logger.info({ tenantId: tenant.id, archived, batches }, 'audit entries past retention archived');
  return { archived, batches };
}
