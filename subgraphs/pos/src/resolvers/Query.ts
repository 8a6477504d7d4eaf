import { parseInput, uuidSchema } from '@umi/kit';
import { tenantScope, type PosContext } from '../context';
import { requireBranch } from '../access';
import { listSales, salesReport } from '../services/sales';
import { listTills } from '../services/tills';

export const Query = {
  sale: async (_: unknown, args: { id: string }, ctx: PosContext) => {
    const sale = await tenantScope(ctx).loaders.saleById.load(args.id);
    if (!sale) return null;
    await requireBranch(ctx, sale.branchId, 'view', 'id');
    return sale;
  },
  sales: (_: unknown, args: Record<string, unknown>, ctx: PosContext) => listSales(ctx, args),
  salesReport: (_: unknown, args: Record<string, unknown>, ctx: PosContext) => salesReport(ctx, args),
  tills: (_: unknown, args: { branchId: string }, ctx: PosContext) => listTills(ctx, args.branchId),
  tillSession: async (_: unknown, args: { id: string }, ctx: PosContext) => {
    const { db } = tenantScope(ctx);
    const session = await db.tillSession.findUnique({ where: { id: parseInput(uuidSchema, args.id, 'id') } });
    if (!session) return null;
    await requireBranch(ctx, session.branchId, 'view', 'id');
    return session;
  },
};
