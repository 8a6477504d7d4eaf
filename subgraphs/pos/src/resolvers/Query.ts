import { ForbiddenError, canViewBranch } from '@umi/kit';
import { tenantScope, type PosContext } from '../context';

export const Query = {
  sale: async (_: unknown, args: { id: string }, ctx: PosContext) => {
    const sale = await tenantScope(ctx).loaders.saleById.load(args.id);
    if (!sale) return null;
    if (!ctx.principal || !canViewBranch(ctx.principal, sale.branchId)) throw new ForbiddenError('No access to this branch');
    return sale;
  },
};
