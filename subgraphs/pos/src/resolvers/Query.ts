import { parseInput, uuidSchema } from '@umi/kit';
import { requireTenant } from '@umi/subgraph';
import type { QueryResolvers } from '../generated/resolvers';
import { requireBranch } from '../policy';
import { listSales, salesReport } from '../services/sales';
import { listTills } from '../services/tills';
import { fiscalBacklog, fiscalSettings, productFiscalCodes } from '../services/fiscal';
import { mobileMoneyReconciliation } from '../services/mobile-money/reconciliation';
import { listMobileMoneySettings } from '../services/mobile-money/settings';

export const Query: QueryResolvers = {
  sale: async (_, args, ctx) => {
    const sale = await ctx.loaders.saleById.load(args.id);
    if (!sale) return null;
    await requireBranch(ctx, sale.branchId, 'view', 'id');
    return sale;
  },
  sales: (_, args, ctx) => listSales(ctx, args),
  salesReport: (_, args, ctx) => salesReport(ctx, args),
  tills: (_, args, ctx) => listTills(ctx, args.branchId),
  mobileMoneyReconciliation: (_, args, ctx) => mobileMoneyReconciliation(ctx, args),
  mobileMoneySettings: (_, _args, ctx) => listMobileMoneySettings(ctx),
  tillSession: async (_, args, ctx) => {
    const session = await requireTenant(ctx).db.tillSession.findUnique({ where: { id: parseInput(uuidSchema, args.id, 'id') } });
    if (!session) return null;
    await requireBranch(ctx, session.branchId, 'view', 'id');
    return session;
  },
  fiscalBacklog: (_, args, ctx) => fiscalBacklog(ctx, args),
  fiscalSettings: (_, __, ctx) => fiscalSettings(ctx),
  productFiscalCodes: (_, args, ctx) => productFiscalCodes(ctx, args),
};
