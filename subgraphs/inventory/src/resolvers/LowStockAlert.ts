import { ref } from '@umi/subgraph';
import type { LowStockAlertResolvers } from '../generated/resolvers';
import { referencedProduct } from '../loaders';
import { stockKeyAt } from '../services/stock';

export const LowStockAlert: LowStockAlertResolvers = {
  product: (e, _, ctx) => referencedProduct(ctx.loaders, e.productId),
  branch: (e) => ref('Branch', e.branchId),
  stock: async (e, _, ctx) => ctx.loaders.stock.load(await stockKeyAt(ctx, e.branchId, e.productId)),
};
