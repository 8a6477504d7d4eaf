import { dateInZone } from '@umi/kit';
import { ref, requireTenant } from '@umi/subgraph';
import type { BatchStatus, InventoryBatchResolvers } from '../generated/resolvers';
import { referencedProduct } from '../loaders';

export const InventoryBatch: InventoryBatchResolvers = {
  status: (b) => b.status as BatchStatus,
  product: (b, _, ctx) => referencedProduct(ctx.loaders, b.productId),
  branch: (b) => ref('Branch', b.branchId),
  supplier: (b, _, ctx) => (b.supplierId ? ctx.loaders.supplierById.load(b.supplierId) : null),
  quantityAvailable: async (b, _, ctx) => {
    if (b.status !== 'AVAILABLE') return 0;
    const branch = await ctx.deps.branches.get(requireTenant(ctx).tenant.id, b.branchId);
    const today = dateInZone(branch?.timezone ?? 'UTC');
    return b.expiryDate.toISOString().slice(0, 10) > today ? b.quantityOnHand - b.quantityReserved : 0;
  },
  reorderLevel: async (b, _, ctx) => (await ctx.loaders.settings.load(b))?.reorderLevel ?? 0,
  reorderQuantity: async (b, _, ctx) => (await ctx.loaders.settings.load(b))?.reorderQuantity ?? 0,
  receivedAt: (b) => b.createdAt,
  quarantineOf: (b, _, ctx) => (b.quarantineOf ? ctx.loaders.batchById.load(b.quarantineOf) : null),
};
