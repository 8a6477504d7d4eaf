import { z } from 'zod';
import { ConflictError, PlanLimitError, parseInput } from '@umi/kit';
import { recordAudit, sharedTables, sql } from '@umi/db';
import type { Branch } from '@umi/db/shared-models';
import { requireTenant } from '@umi/subgraph';
import type { TenantContext } from '../context';
import { auditOf, branchRules } from '../policy';

const optionalText = (max: number) => z.string().trim().max(max).optional().nullable().transform((v) => (v ? v : null));

const createBranchSchema = z.object({
  name: z.string().trim().min(1).max(255),
  code: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z0-9][A-Z0-9_-]{0,49}$/, 'must be letters, digits, - or _ (at most 50)'),
  address: optionalText(500),
  phone: optionalText(50),
  email: z.string().trim().toLowerCase().email().optional().nullable(),
  licenseNumber: optionalText(100),
  timezone: z
    .string()
    .optional()
    .nullable()
    .refine((tz) => !tz || Intl.supportedValuesOf('timeZone').includes(tz), 'must be an IANA time zone'),
});

/** Adds a branch within the plan's limit; the tenant row is locked so two requests cannot both take the last slot. */
export async function createBranch(ctx: TenantContext, input: unknown): Promise<Branch> {
  const { tenant } = requireTenant(ctx);
  const data = parseInput(createBranchSchema, input);
  const branch = await ctx.shared.transaction(async (tx) => {
    const limits = await tx.sql.one<{ max_branches: number }>(sql`SELECT max_branches FROM ${sharedTables.tenants} WHERE id = ${tenant.id}::uuid FOR UPDATE`);
    const count = await tx.branch.count({ where: { tenantId: tenant.id, deletedAt: null } });
    if (count >= limits.max_branches) {
      throw new PlanLimitError(`The plan allows ${limits.max_branches} branches; upgrade to add more`, limits.max_branches);
    }
    const clash = await tx.branch.findFirst({ where: { tenantId: tenant.id, code: data.code }, select: { id: true } });
    if (clash) throw new ConflictError(`Branch code "${data.code}" is already used`);
    const created = await tx.branch.create({
      data: {
        tenantId: tenant.id,
        name: data.name,
        code: data.code,
        address: data.address,
        phone: data.phone,
        email: data.email ?? null,
        licenseNumber: data.licenseNumber,
        ...(data.timezone ? { timezone: data.timezone } : {}),
      },
    });
    await recordAudit(tx, { ...auditOf(ctx), action: 'CREATE', entityType: 'Branch', entityId: created.id, branchId: created.id, newValues: created });
    return created;
  });
  ctx.deps.branches.invalidate(tenant.id);
  return branch;
}

/** The tenant's branches the caller may see, by code. */
export async function listBranches(ctx: TenantContext): Promise<Branch[]> {
  const { tenant, principal } = requireTenant(ctx);
  const all = await ctx.shared.transaction((tx) => tx.branch.findMany({ where: { tenantId: tenant.id, deletedAt: null }, orderBy: { code: 'asc' } }));
  return all.filter((b) => branchRules.view(principal, b.id));
}
