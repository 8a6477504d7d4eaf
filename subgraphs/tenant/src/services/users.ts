import { z } from 'zod';
import { BadUserInputError, ConflictError, PlanLimitError, type Principal, type RequestBase } from '@umi/kit';
import { recordAudit, recordEvent, sharedTx, type TenantRecord } from '@umi/db';
import type { TenantDeps } from '../deps';
import { hashPassword } from './passwords';
import { emailSchema, nameSchema, parseInput, passwordSchema, uuidSchema } from './validation';

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
export async function createUser(deps: TenantDeps, req: RequestBase & { principal: Principal }, tenant: TenantRecord, input: unknown) {
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
  return sharedTx(deps.shared, { kind: 'tenant', tenantId: tenant.id }, async (tx) => {
    const [limits] = await tx.$queryRaw<{ max_users: number }[]>`SELECT max_users FROM shared.tenants WHERE id = ${tenant.id}::uuid FOR UPDATE`;
    const count = await tx.user.count({ where: { tenantId: tenant.id, deletedAt: null } });
    if (!limits || count >= limits.max_users) {
      throw new PlanLimitError(`The plan allows ${limits?.max_users ?? 0} users; upgrade to add more`, limits?.max_users ?? 0);
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
    const user = await tx.user.create({
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
    await recordAudit(tx, tenant.schemaName, {
      userId: req.principal.userId,
      action: 'CREATE',
      entityType: 'User',
      entityId: user.id,
      newValues: { ...user, branchIds },
      ipAddress: req.ip,
      userAgent: req.userAgent,
      correlationId: req.requestId,
    });
    await recordEvent(tx, tenant.schemaName, {
      eventType: 'user.created',
      serviceName: 'tenant',
      aggregateId: user.id,
      data: { userId: user.id, email: user.email, role: user.role, branchIds },
      metadata: { tenantId: tenant.id, branchId: branchIds[0] ?? null, userId: req.principal.userId, correlationId: req.requestId },
    });
    return user;
  });
}
