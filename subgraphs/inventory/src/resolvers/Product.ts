import type { ProductResolvers, TaxCategory } from '../generated/resolvers';
import { stockKeyAt } from '../services/stock';

export const Product: ProductResolvers = {
  __resolveReference: (r, ctx) => ctx.loaders.productById.load(r.id),
  taxCategory: (p) => p.taxCategory as TaxCategory,
  sellingPrice: async (p, a, ctx) => ctx.loaders.price.load(await stockKeyAt(ctx, a.branchId, p.id)),
  stock: async (p, a, ctx) => ctx.loaders.stock.load(await stockKeyAt(ctx, a.branchId, p.id)),
  batches: async (p, a, ctx) => ctx.loaders.batchesHeld.load(await stockKeyAt(ctx, a.branchId, p.id)),
};
