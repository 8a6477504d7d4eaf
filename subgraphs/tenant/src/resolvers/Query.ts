import { readSettings } from '../services/settings';
import { ForbiddenError, canViewBranch } from '@umi/kit';
import { sharedTx } from '@umi/db';
import type { TenantContext } from '../context';
import { listAuditLogs } from '../services/audit-logs';

export const Query = {
  me: (_: unknown, __: unknown, ctx: TenantContext) => (ctx.principal ? ctx.loaders.userById.load(ctx.principal.userId) : null),

  tenants: (_: unknown, __: unknown, ctx: TenantContext) =>
    sharedTx(ctx.deps.shared, { kind: 'platform' }, (tx) => tx.tenant.findMany({ where: { deletedAt: null }, orderBy: { createdAt: 'asc' } })),

  plans: (_: unknown, __: unknown, ctx: TenantContext) =>
    sharedTx(ctx.deps.shared, { kind: 'platform' }, (tx) => tx.plan.findMany({ orderBy: { maxBranches: 'asc' } })),

  branches: async (_: unknown, __: unknown, ctx: TenantContext) => {
    const all = await sharedTx(ctx.deps.shared, ctx.scope!, (tx) =>
      tx.branch.findMany({ where: { tenantId: ctx.tenant!.id, deletedAt: null }, orderBy: { code: 'asc' } }),
    );
    return all.filter((b) => canViewBranch(ctx.principal!, b.id));
  },

  branch: async (_: unknown, args: { id: string }, ctx: TenantContext) => {
    const branch = await ctx.loaders.branchById.load(args.id);
    if (!branch) return null;
    if (!canViewBranch(ctx.principal!, branch.id)) throw new ForbiddenError('No access to this branch');
    return branch;
  },

  users: (_: unknown, __: unknown, ctx: TenantContext) =>
    sharedTx(ctx.deps.shared, ctx.scope!, (tx) =>
      tx.user.findMany({ where: { tenantId: ctx.tenant!.id, deletedAt: null }, orderBy: { email: 'asc' } }),
    ),

  tenantSettings: (_: unknown, __: unknown, ctx: TenantContext) => readSettings(ctx.deps, ctx.tenant!),

  auditLogs: (_: unknown, args: { entityType?: string | null; first: number; after?: string | null }, ctx: TenantContext) =>
    listAuditLogs(ctx, args),
};
