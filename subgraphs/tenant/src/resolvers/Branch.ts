import { canViewBranch } from '@umi/kit';
import type { TenantContext } from '../context';

export const Branch = {
  /** Another tenant's branch, or one the caller may not see, resolves to null. */
  __resolveReference: async (ref: { id: string }, ctx: TenantContext) => {
    const branch = await ctx.loaders.branchById.load(ref.id);
    if (!branch) return null;
    if (ctx.principal?.role !== 'SUPER_ADMIN' && !(ctx.principal && canViewBranch(ctx.principal, branch.id))) return null;
    return branch;
  },
};
