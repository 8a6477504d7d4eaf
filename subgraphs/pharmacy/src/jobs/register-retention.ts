import type { Pool, PoolClient } from 'pg';
import { bindSql, inTransaction, pgExecutor, sharedTables, sql, tables } from '@umi/db';
import type { Logger } from '@umi/kit';

/**
 * Retention of the controlled-substance register: deletes, tenant by tenant, the lines older than
 * the tenant's `controlled_register_retention_years` (never fewer than 5). The register's trigger
 * lets a line go only inside such a purge (`umi.register_purge`, set for the transaction) and only
 * once it is past the same period, so a wrong setting or a wrong query here still cannot take a
 * line that must be kept. Runs outside any request, across every tenant whose schema is on the
 * primary server, on the owner's pool (the scheduled job purges each tenant on its own server).
 */
export async function purgeControlledRegister(pool: Pool, logger: Logger): Promise<{ deleted: number }> {
  const client = await pool.connect();
  let deleted = 0;
  try {
    const tenants = await inTransaction(client, async () => {
      // The shared tenants table is under row-level security: list it as the platform.
      await client.query(`SELECT set_config('app.platform', 'on', true)`);
      return bindSql(pgExecutor(client), null).query<{ id: string; schema_name: string; server_id: string }>(
        sql`SELECT id::text, schema_name, server_id FROM ${sharedTables.tenants} WHERE deleted_at IS NULL ORDER BY schema_name`,
      );
    });
    for (const t of tenants) {
      if (t.server_id !== 'primary') continue; // purged by the per-tenant job, on the tenant's own server
      const n = await purgeOn(client, t.schema_name);
      deleted += n;
      if (n > 0) logger.info({ tenantId: t.id, deleted: n }, 'controlled register lines past retention deleted');
    }
  } finally {
    client.release();
  }
  return { deleted };
}

/** One schema's purge, in its own transaction on `client` (a connection to the schema's server). */
async function purgeOn(client: PoolClient, schema: string): Promise<number> {
  const db = bindSql(pgExecutor(client), schema);
  return inTransaction(client, async () => {
    await db.query(sql`SELECT set_config('umi.register_purge', 'on', true)`);
    const rows = await db.query<{ n: number }>(
      sql`WITH gone AS (
            DELETE FROM ${tables.controlled_register}
            WHERE occurred_at < now() - make_interval(years => greatest(5, coalesce(
              (SELECT (value #>> '{}')::integer FROM ${tables.tenant_settings} WHERE key = 'controlled_register_retention_years'), 5)))
            RETURNING 1
          )
          SELECT count(*)::int AS n FROM gone`,
    );
    return rows[0]?.n ?? 0;
  });
}

/** The purge of one tenant, on the pool of the server that holds its schema (the scheduled job's unit). */
export async function purgeControlledRegisterOf(pool: Pool, tenant: { id: string; schemaName: string }, logger: Logger): Promise<{ deleted: number }> {
  const client = await pool.connect();
  try {
    const deleted = await purgeOn(client, tenant.schemaName);
    if (deleted > 0) logger.info({ tenantId: tenant.id, deleted }, 'controlled register lines past retention deleted');
    return { deleted };
  } finally {
    client.release();
  }
}
