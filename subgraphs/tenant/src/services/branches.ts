import { z } from 'zod';
import { ConflictError, PlanLimitError, type Principal, type RequestBase } from '@umi/kit';
import { recordAudit, sharedTx, type TenantRecord } from '@umi/db';
import type { TenantDeps } from '../deps';
import { parseInput } from './validation';

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
export async function createBranch(deps: TenantDeps, req: RequestBase & { principal: Principal }, tenant: TenantRecord, input: unknown) {
  const data = parseInput(createBranchSchema, input);
  const branch = await sharedTx(deps.shared, { kind: 'tenant', tenantId: tenant.id }, async (tx) => {
    const [limits] = await tx.$queryRaw<{ max_branches: number }[]>`SELECT max_branches FROM shared.tenants WHERE id = ${tenant.id}::uuid FOR UPDATE`;
    const count = await tx.branch.count({ where: { tenantId: tenant.id, deletedAt: null } });
    if (!limits || count >= limits.max_branches) {
      throw new PlanLimitError(`The plan allows ${limits?.max_branches ?? 0} branches; upgrade to add more`, limits?.max_branches ?? 0);
    }
    const clash = await tx.branch.findFirst({ where: { tenantId: tenant.id, code: data.code }, select: { id: true } });
    if (clash) throw new ConflictError(`Branch code "${data.code}" is already used`);
    const branch = await tx.branch.create({
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
    await recordAudit(tx, tenant.schemaName, {
      userId: req.principal.userId,
      action: 'CREATE',
      entityType: 'Branch',
      entityId: branch.id,
      branchId: branch.id,
      newValues: branch,
      ipAddress: req.ip,
      userAgent: req.userAgent,
      correlationId: req.requestId,
    });
    return branch;
  });
  deps.branches.invalidate(tenant.id);
  return branch;
}
