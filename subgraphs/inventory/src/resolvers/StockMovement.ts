import { ref } from '@umi/subgraph';
import type { StockMovementResolvers, StockMovementType } from '../generated/resolvers';
import { referencedProduct } from '../loaders';

export const StockMovement: StockMovementResolvers = {
  type: (m) => m.type as StockMovementType,
  product: (m, _, ctx) => referencedProduct(ctx.loaders, m.productId),
  branch: (m) => ref('Branch', m.branchId),
  batch: async (m, _, ctx) => {
    const batch = await ctx.loaders.batchById.load(m.batchId);
    if (!batch) throw new Error(`batch ${m.batchId} of movement ${m.id} is missing`);
    return batch;
  },
  user: (m) => (m.userId ? ref('User', m.userId) : null),
};
