import { BadUserInputError, ConflictError } from '@umi/kit';
import { recordAudit, type AuditEntry } from './audit';
import { tenantSchemaName } from './identifiers';
import { applyMigrations, inTransaction, lockTenantSchema } from './migrate';
import { createOwnerPool } from './pools';
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
export function createTenantProvisioner(databaseUrl: string, appRole: string, concurrency = 4): TenantProvisioner & { close(): Promise<void> } {
  // Provisionings no longer queue on one lock, so the pool is what bounds them running side by side.
  const pool = createOwnerPool(databaseUrl, concurrency);
  return {
    async provision(tenant, audit, hooks = {}) {
      const schema = tenantSchemaName(tenant.subdomain);
      const client = await pool.connect();
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

          const { id } = await db.one<{ id: string }>(
            sql`INSERT INTO ${sharedTables.tenants} (name, subdomain, schema_name, plan, max_branches, max_users)
                VALUES (${tenant.name}, ${tenant.subdomain}, ${schema}, ${tenant.plan}, ${plan.max_branches}::int, ${plan.max_users}::int) RETURNING id::text`,
          );
          await db.execute(
            sql`INSERT INTO ${sharedTables.subscriptions} (tenant_id, plan_type, amount, features, limits, start_date)
                VALUES (${id}::uuid, ${tenant.plan}, ${plan.monthly_price}::numeric, ${JSON.stringify(plan.features)}::jsonb,
                        ${JSON.stringify({ maxBranches: plan.max_branches, maxUsers: plan.max_users })}::jsonb, (now() AT TIME ZONE 'UTC')::date)`,
          );
          await applyMigrations(client, 'tenant', schema, appRole);
          // 0010 made this month and the next ones when it ran; the call states the promise
          // (this month plus three ahead) where it is kept for every later month: the job runner.
          await ensureSalePartitions(client, schema);
          const admin = await db.one<{ id: string }>(
            sql`INSERT INTO ${sharedTables.users} (tenant_id, email, password_hash, first_name, last_name, role)
                VALUES (${id}::uuid, ${tenant.admin.email}, ${tenant.admin.passwordHash}, ${tenant.admin.firstName}, ${tenant.admin.lastName}, 'ADMIN')
                RETURNING id::text`,
          );
          await recordAudit(
            { sql: db },
            {
              ...audit,
              action: 'CREATE',
              entityType: 'Tenant',
              entityId: id,
              newValues: { name: tenant.name, subdomain: tenant.subdomain, plan: tenant.plan, adminEmail: tenant.admin.email, adminUserId: admin.id },
            },
          );
          await hooks.beforeCommit?.({ sql: db });
          return id;
        });
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
