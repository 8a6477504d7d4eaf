import { canViewBranch } from '@umi/kit';
import type { TenantContext } from '../context';

export const Branch = {
  /** Another tenant's branch, or one the caller may not see, resolves to null. */
  __resolveReference: async (ref: { id: string }, ctx: TenantContext) => {
    // A tenant user's references come from the per-tenant cache: a sale's or an event's branch
    // costs no query. The platform operator reads the table.
    const branch = ctx.tenant ? await ctx.deps.branches.get(ctx.tenant.id, ref.id) : await ctx.loaders.branchById.load(ref.id);
    if (!branch) return null;
    if (ctx.principal?.role !== 'SUPER_ADMIN' && !(ctx.principal && canViewBranch(ctx.principal, branch.id))) return null;
    return branch;
  },
};
