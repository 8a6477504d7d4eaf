import type { BranchResolvers } from '../generated/resolvers';
import { branchStock } from '../services/stock';

export const Branch: BranchResolvers = {
  __resolveReference: (r) => r,
  stock: (b, a, ctx) => branchStock(ctx, b.id, a.lowStockOnly === true),
};
