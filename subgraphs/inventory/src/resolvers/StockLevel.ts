import { ref } from '@umi/subgraph';
import type { StockLevelResolvers } from '../generated/resolvers';
import { referencedProduct } from '../loaders';

export const StockLevel: StockLevelResolvers = {
  // Synchronous when the row came with its product (a branch's list): no promise per row.
  product: (s, _, ctx) => s.product ?? referencedProduct(ctx.loaders, s.productId),
  branch: (s) => ref('Branch', s.branchId),
  lowStock: (s) => s.quantityAvailable <= s.reorderLevel,
};
