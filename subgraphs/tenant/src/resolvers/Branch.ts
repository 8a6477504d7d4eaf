import type { BranchResolvers } from '../generated/resolvers';
import { maySeeBranch } from '../policy';

export const Branch: BranchResolvers = {
  /**
   * Another tenant's branch, or one the caller may not see, resolves to null. A tenant user's
   * references come from the per-tenant branch directory (a sale's or an event's branch costs no
   * query); the platform operator reads the table.
   */
  __resolveReference: async (ref, ctx) => {
    const branch = ctx.scope ? await ctx.deps.branches.get(ctx.scope.tenant.id, ref.id) : await ctx.loaders.branchById.load(ref.id);
    return branch && maySeeBranch(ctx.principal, branch.id) ? branch : null;
  },
};
