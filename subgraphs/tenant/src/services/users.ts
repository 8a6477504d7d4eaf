import { z } from 'zod';
import { BadUserInputError, ConflictError, PlanLimitError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit, sharedTables, sql } from '@umi/db';
import type { User } from '@umi/db/shared-models';
import { recordEvent } from '@umi/events';
import { requireTenant } from '@umi/subgraph';
import type { TenantContext } from '../context';
import { auditOf } from '../policy';
import { hashPassword } from './passwords';
import { emailSchema, nameSchema, passwordSchema } from './validation';

const createUserSchema = z
  .object({
    email: emailSchema,
    password: passwordSchema,
    firstName: nameSchema,
    lastName: nameSchema,
    role: z.enum(['ADMIN', 'OPERATIONS', 'PHARMACIST', 'CASHIER'], { message: 'must be ADMIN, OPERATIONS, PHARMACIST or CASHIER' }),
    branchIds: z.array(uuidSchema).max(500),
    permissions: z
      .object({
        canViewAllBranches: z.boolean().nullish(),
        canManageAllBranches: z.boolean().nullish(),
        canTransferStock: z.boolean().nullish(),
        canViewReports: z.array(uuidSchema).max(500).nullish(),
        canProcessSales: z.array(uuidSchema).max(500).nullish(),
      })
      .nullish(),
  })
  .refine((u) => !['PHARMACIST', 'CASHIER'].includes(u.role) || u.branchIds.length > 0, {
    path: ['branchIds'],
    message: 'a branch-scoped role needs at least one branch',
  });

/** Adds a staff member within the plan's limit, with branch access checked against the tenant's own branches. */
export async function createUser(ctx: TenantContext, input: unknown): Promise<User> {
  const { tenant, principal } = requireTenant(ctx);
  const data = parseInput(createUserSchema, input);
  const branchIds = [...new Set(data.branchIds)];
  const permissions = {
    canViewAllBranches: data.permissions?.canViewAllBranches ?? false,
    canManageAllBranches: data.permissions?.canManageAllBranches ?? false,
    canTransferStock: data.permissions?.canTransferStock ?? false,
    canViewReports: [...new Set(data.permissions?.canViewReports ?? [])],
    // A cashier or pharmacist sells at their branches unless told otherwise.
    canProcessSales: [...new Set(data.permissions?.canProcessSales ?? (['PHARMACIST', 'CASHIER'].includes(data.role) ? branchIds : []))],
  };
  const passwordHash = await hashPassword(data.password);
  const user = await ctx.shared.transaction(async (tx) => {
    const limits = await tx.sql.one<{ max_users: number }>(sql`SELECT max_users FROM ${sharedTables.tenants} WHERE id = ${tenant.id}::uuid FOR UPDATE`);
    const count = await tx.user.count({ where: { tenantId: tenant.id, deletedAt: null } });
    if (count >= limits.max_users) {
      throw new PlanLimitError(`The plan allows ${limits.max_users} users; upgrade to add more`, limits.max_users);
    }
    const referenced = [...new Set([...branchIds, ...permissions.canViewReports, ...permissions.canProcessSales])];
    const found = await tx.branch.findMany({ where: { id: { in: referenced }, tenantId: tenant.id, deletedAt: null }, select: { id: true } });
    if (found.length !== referenced.length) {
      const known = new Set(found.map((b) => b.id));
      throw new BadUserInputError(`Unknown branch: ${referenced.filter((id) => !known.has(id)).join(', ')}`, {
        fields: [{ path: 'input.branchIds', message: 'unknown branch' }],
      });
    }
    const clash = await tx.user.findFirst({ where: { tenantId: tenant.id, email: data.email }, select: { id: true } });
    if (clash) throw new ConflictError(`A user with email ${data.email} already exists`);
    const created = await tx.user.create({
      data: {
        tenantId: tenant.id,
        email: data.email,
        passwordHash,
        firstName: data.firstName,
        lastName: data.lastName,
        role: data.role,
        permissions,
        branches: { create: branchIds.map((branchId) => ({ branchId, tenantId: tenant.id })) },
      },
    });
    await recordAudit(tx, { ...auditOf(ctx), action: 'CREATE', entityType: 'User', entityId: created.id, newValues: { ...created, branchIds } });
    await recordEvent(tx, {
      eventType: 'user.created',
      serviceName: 'tenant',
      aggregateId: created.id,
      data: { userId: created.id, email: created.email, role: created.role, branchIds },
      metadata: { tenantId: tenant.id, branchId: branchIds[0] ?? null, userId: principal.userId, correlationId: ctx.requestId },
    });
    return created;
  });
  ctx.deps.users.invalidate(tenant.id, user.id);
  return user;
}

/** The tenant's users, by email. */
export function listUsers(ctx: TenantContext): Promise<User[]> {
  const { tenant } = requireTenant(ctx);
  return ctx.shared.transaction((tx) => tx.user.findMany({ where: { tenantId: tenant.id, deletedAt: null }, orderBy: { email: 'asc' } }));
}
