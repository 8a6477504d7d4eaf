import type { PoolClient } from 'pg';
import { z } from 'zod';
import { BadUserInputError, ConflictError, type Principal, type RequestBase } from '@umi/kit';
import { MIGRATION_LOCK_KEY, applyMigrations, inTransaction, isValidSubdomain, tenantSchemaName } from '@umi/db';
import type { TenantDeps } from '../deps';
import { hashPassword } from './passwords';
import { emailSchema, nameSchema, parseInput, passwordSchema } from './validation';

/** Labels that name parts of the platform, never a tenant. */
const RESERVED_SUBDOMAINS = new Set(['www', 'api', 'app', 'admin', 'auth', 'mail', 'status', 'docs', 'platform', 'gateway', 'static']);

const createTenantSchema = z.object({
  name: z.string().trim().min(1).max(255),
  subdomain: z
    .string()
    .refine(isValidSubdomain, 'must be 3 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen')
    .refine((s) => !RESERVED_SUBDOMAINS.has(s), 'is reserved'),
  plan: z.string().trim().toLowerCase().min(1),
  adminEmail: emailSchema,
  adminPassword: passwordSchema,
  adminFirstName: nameSchema,
  adminLastName: nameSchema,
});

export interface ProvisionHooks {
  /** Runs inside the transaction after every step; a throw rolls everything back (tests). */
  beforeCommit?(client: PoolClient): Promise<void>;
}

/**
 * Provisions a tenant in ONE owner transaction: tenant row, subscription, schema, the schema's
 * migrations, the first ADMIN and the audit row. PostgreSQL's DDL is transactional, so any
 * failure leaves no tenant, no schema and no user behind. The migration advisory lock keeps a
 * concurrent migration run from seeing a half-made schema.
 */
export async function provisionTenant(
  deps: TenantDeps,
  req: RequestBase & { principal: Principal },
  input: unknown,
  hooks: ProvisionHooks = {},
): Promise<string> {
  const data = parseInput(createTenantSchema, input);
  const schema = tenantSchemaName(data.subdomain);
  const passwordHash = await hashPassword(data.adminPassword);
  const client = await deps.ownerPool.connect();
  try {
    const tenantId = await inTransaction(client, async () => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const plan = await client.query<{ max_branches: number; max_users: number; monthly_price: string; features: unknown }>(
        'SELECT max_branches, max_users, monthly_price, features FROM shared.plans WHERE code = $1',
        [data.plan],
      );
      const p = plan.rows[0];
      if (!p) throw new BadUserInputError(`input.plan: unknown plan "${data.plan}"`, { fields: [{ path: 'input.plan', message: 'unknown plan' }] });
      const taken = await client.query('SELECT 1 FROM shared.tenants WHERE subdomain = $1 OR schema_name = $2', [data.subdomain, schema]);
      if (taken.rowCount) throw new ConflictError(`Subdomain "${data.subdomain}" is already taken`);
      const schemaExists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (schemaExists.rowCount) throw new ConflictError(`Subdomain "${data.subdomain}" is already taken`);

      const tenant = await client.query<{ id: string }>(
        `INSERT INTO shared.tenants (name, subdomain, schema_name, plan, max_branches, max_users)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [data.name, data.subdomain, schema, data.plan, p.max_branches, p.max_users],
      );
      const newTenantId = tenant.rows[0]!.id;
      await client.query(
        `INSERT INTO shared.subscriptions (tenant_id, plan_type, amount, features, limits, start_date)
         VALUES ($1, $2, $3, $4, $5, (now() AT TIME ZONE 'UTC')::date)`,
        [newTenantId, data.plan, p.monthly_price, JSON.stringify(p.features), JSON.stringify({ maxBranches: p.max_branches, maxUsers: p.max_users })],
      );
      await applyMigrations(client, 'tenant', schema, deps.env.DATABASE_APP_ROLE);
      const admin = await client.query<{ id: string }>(
        `INSERT INTO shared.users (tenant_id, email, password_hash, first_name, last_name, role)
         VALUES ($1, $2, $3, $4, $5, 'ADMIN') RETURNING id`,
        [newTenantId, data.adminEmail, passwordHash, data.adminFirstName, data.adminLastName],
      );
      await client.query(
        `INSERT INTO audit_logs (user_id, action, entity_type, entity_id, new_values, ip_address, user_agent, correlation_id)
         VALUES ($1, 'CREATE', 'Tenant', $2, $3, $4, $5, $6)`,
        [
          req.principal.userId,
          newTenantId,
          JSON.stringify({ name: data.name, subdomain: data.subdomain, plan: data.plan, adminEmail: data.adminEmail, adminUserId: admin.rows[0]!.id }),
          req.ip,
          req.userAgent,
          req.requestId,
        ],
      );
      await hooks.beforeCommit?.(client);
      return newTenantId;
    });
    req.logger.info({ tenantId, subdomain: data.subdomain }, 'tenant provisioned');
    return tenantId;
  } finally {
    client.release();
  }
}
