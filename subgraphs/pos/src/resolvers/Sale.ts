import { canViewBranch } from '@umi/kit';
import { tenantScope, type PosContext } from '../context';

export const Sale = {
  /** A sale of a branch the caller may not see resolves to null. */
  __resolveReference: async (ref: { id: string }, ctx: PosContext) => {
    const sale = await tenantScope(ctx).loaders.saleById.load(ref.id);
    return sale && ctx.principal && canViewBranch(ctx.principal, sale.branchId) ? sale : null;
  },
};
