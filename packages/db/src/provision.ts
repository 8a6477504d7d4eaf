import type { Pool } from 'pg';
import { BadUserInputError, ConflictError } from '@umi/kit';
import { recordAudit, type AuditEntry } from './audit';
import { quoteIdent, tenantSchemaName } from './identifiers';
import { applyMigrations, appliedTenantMigrations, ensureAppRole, inTransaction, lockTenantSchema } from './migrate';
import { createOwnerPool } from './pools';
import { PRIMARY_SERVER, ServerPools, serverUrls } from './servers';
import { ensureSalePartitions } from './sale-partitions';
import { bindSql, pgExecutor, sharedTables, sql, type SqlRunner } from './sql';

/** A tenant to create, already validated by the caller (subdomain rules, reserved names, password hashed). */
export interface NewTenant {
  name: string;
  subdomain: string;
  /** Plan code; an unknown one is BAD_USER_INPUT. */
  plan: string;
  admin: { email: string; passwordHash: string; firstName: string; lastName: string };
}

/** Who provisions, from where: the fields of the new tenant's first audit row. */
export type ProvisionAudit = Pick<AuditEntry, 'userId' | 'ipAddress' | 'userAgent' | 'correlationId'>;

export interface ProvisionHooks {
  /**
   * Runs inside the transaction after every step, with tagged SQL bound to the new tenant's schema;
   * a throw rolls everything back (how tests prove all-or-nothing).
   */
  beforeCommit?(tx: { sql: SqlRunner }): Promise<void>;
}

/** Creates tenants: what the platform operator's createTenant hands the database. */
export interface TenantProvisioner {
  /** Provisions `tenant` and resolves to its id; nothing of it remains when it fails. */
  provision(tenant: NewTenant, audit: ProvisionAudit, hooks?: ProvisionHooks): Promise<string>;
}

/**
 * A provisioner over its own small owner pool (DDL needs the owner; the application role may not
 * create schemas). Everything happens in ONE owner transaction: tenant row, subscription, schema,
 * the schema's migrations, the first ADMIN and the audit row. PostgreSQL's DDL is transactional,
 * so any failure leaves no tenant, no schema and no user behind. The migration advisory lock keeps
 * a concurrent migration run from seeing a half-made schema. `close` ends the pool.
 */
export function createTenantProvisioner(
  databaseUrl: string,
  appRole: string,
  concurrency = 4,
  /** Further servers (TENANT_DATABASE_URLS): a new tenant goes to the emptiest accepting one. */
  otherServers: Record<string, string> = {},
): TenantProvisioner & { close(): Promise<void> } {
  // Provisionings no longer queue on one lock, so the pool is what bounds them running side by side.
  const pool = createOwnerPool(databaseUrl, concurrency);
  const servers = new ServerPools(serverUrls(databaseUrl, otherServers), (url) => createOwnerPool(url, concurrency), pool);
  const configured = servers.servers();
  return {
    async provision(tenant, audit, hooks = {}) {
      const schema = tenantSchemaName(tenant.subdomain);
      const client = await pool.connect();
      // Set once the tenant's schema committed on another server: undone if the primary then fails.
      let orphan: string | null = null;
      try {
        return await inTransaction(client, async () => {
          const db = bindSql(pgExecutor(client), schema);
          // The shared tables force row-level security, which binds an owner that is not superuser too.
          await db.execute(sql`SELECT set_config('app.platform', 'on', true)`);
          // Waits only while the shared schema migrates; provisionings run side by side.
          await lockTenantSchema(client, schema);
          const plan = await db.maybeOne<{ max_branches: number; max_users: number; monthly_price: string; features: unknown }>(
            sql`SELECT max_branches, max_users, monthly_price::text AS monthly_price, features FROM ${sharedTables.plans} WHERE code = ${tenant.plan}`,
          );
          if (!plan) throw new BadUserInputError(`input.plan: unknown plan "${tenant.plan}"`, { fields: [{ path: 'input.plan', message: 'unknown plan' }] });
          const { taken } = await db.one<{ taken: boolean }>(
            sql`SELECT EXISTS (SELECT 1 FROM ${sharedTables.tenants} WHERE subdomain = ${tenant.subdomain} OR schema_name = ${schema})
                    OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ${schema}) AS taken`,
          );
          if (taken) throw new ConflictError(`Subdomain "${tenant.subdomain}" is already taken`);

          // The emptiest server that takes new tenants: fewest tenants for its capacity. Only one
          // this process can reach counts (a row for a server not configured here is skipped).
          const target = await db.maybeOne<{ id: string; ref: string }>(
            sql`SELECT s.id, s.connection_ref AS ref FROM ${sharedTables.database_servers} s
                 WHERE s.accepting_new AND s.connection_ref = ANY(${configured}::text[])
                 ORDER BY (SELECT count(*) FROM ${sharedTables.tenants} t WHERE t.server_id = s.id AND t.deleted_at IS NULL)::float8 / s.capacity, s.id
                 LIMIT 1`,
          );
          if (!target) throw new Error('no database server accepts new tenants');
          const { id } = await db.one<{ id: string }>(
            sql`INSERT INTO ${sharedTables.tenants} (name, subdomain, schema_name, plan, max_branches, max_users, server_id)
                VALUES (${tenant.name}, ${tenant.subdomain}, ${schema}, ${tenant.plan}, ${plan.max_branches}::int, ${plan.max_users}::int, ${target.id}) RETURNING id::text`,
          );
          await db.execute(
            sql`INSERT INTO ${sharedTables.subscriptions} (tenant_id, plan_type, amount, features, limits, start_date)
                VALUES (${id}::uuid, ${tenant.plan}, ${plan.monthly_price}::numeric, ${JSON.stringify(plan.features)}::jsonb,
                        ${JSON.stringify({ maxBranches: plan.max_branches, maxUsers: plan.max_users })}::jsonb, (now() AT TIME ZONE 'UTC')::date)`,
          );
          const elsewhere = target.ref !== PRIMARY_SERVER;
          if (!elsewhere) await applyMigrations(client, 'tenant', schema, appRole);
          // 0010 made this month and the next ones when it ran; the call states the promise
          // (this month plus three ahead) where it is kept for every later month: the job runner.
          if (!elsewhere) await ensureSalePartitions(client, schema);
          const admin = await db.one<{ id: string }>(
            sql`INSERT INTO ${sharedTables.users} (tenant_id, email, password_hash, first_name, last_name, role)
                VALUES (${id}::uuid, ${tenant.admin.email}, ${tenant.admin.passwordHash}, ${tenant.admin.firstName}, ${tenant.admin.lastName}, 'ADMIN')
                RETURNING id::text`,
          );
          const entry: AuditEntry = {
            ...audit,
            action: 'CREATE',
            entityType: 'Tenant',
            entityId: id,
            newValues: { name: tenant.name, subdomain: tenant.subdomain, plan: tenant.plan, adminEmail: tenant.admin.email, adminUserId: admin.id },
          };
          if (!elsewhere) {
            await recordAudit({ sql: db }, entry);
            await hooks.beforeCommit?.({ sql: db });
            return id;
          }
          // No transaction spans two servers: the schema commits on its server first, then the
          // primary's rows. A failure before that first commit rolls both back; one between the
          // two commits leaves an empty schema, which is dropped below.
          const remote = await servers.pool(target.ref).connect();
          try {
            await ensureAppRole(remote, appRole);
            const names = await inTransaction(remote, async () => {
              await lockTenantSchema(remote, schema);
              const { rows } = await remote.query<{ taken: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS taken', [schema]);
              if (rows[0]?.taken) throw new ConflictError(`Subdomain "${tenant.subdomain}" is already taken`);
              await applyMigrations(remote, 'tenant', schema, appRole, undefined, 'elsewhere');
              await ensureSalePartitions(remote, schema);
              const there = bindSql(pgExecutor(remote), schema);
              await recordAudit({ sql: there }, entry);
              await hooks.beforeCommit?.({ sql: there });
              return appliedTenantMigrations(remote, schema);
            });
            orphan = target.ref;
            await db.execute(sql`UPDATE ${sharedTables.tenants} SET schema_migrations = ${names}::text[] WHERE id = ${id}::uuid`);
          } finally {
            remote.release();
          }
          return id;
        });
      } catch (err) {
        if (orphan) await dropOrphan(servers.pool(orphan), schema);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await servers.close();
    },
  };
}

/** Drops a tenant schema whose primary rows never committed (best effort: the error that led here is what the caller sees). */
async function dropOrphan(pool: Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
}
