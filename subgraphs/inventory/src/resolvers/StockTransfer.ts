import { ref } from '@umi/subgraph';
import type { StockTransferResolvers } from '../generated/resolvers';
import { referencedProduct } from '../loaders';

export const StockTransfer: StockTransferResolvers = {
  fromBranch: (t) => ref('Branch', t.fromBranchId),
  toBranch: (t) => ref('Branch', t.toBranchId),
  lines: (t, _, ctx) => ctx.loaders.transferItems.load(t.id),
  product: async (t, _, ctx) => {
    const [first] = await ctx.loaders.transferItems.load(t.id);
    if (!first) throw new Error(`transfer ${t.id} has no lines`);
    return referencedProduct(ctx.loaders, first.productId);
  },
  quantity: async (t, _, ctx) => (await ctx.loaders.transferItems.load(t.id)).reduce((n, i) => n + i.quantity, 0),
  requestedBy: (t) => ref('User', t.requestedBy),
};
