import Decimal from 'decimal.js';
import { ref } from '@umi/subgraph';
import type { PurchaseOrderResolvers, PurchaseOrderStatus } from '../generated/resolvers';

export const PurchaseOrder: PurchaseOrderResolvers = {
  status: (po) => po.status as PurchaseOrderStatus,
  branch: (po) => ref('Branch', po.branchId),
  supplier: async (po, _, ctx) => {
    const supplier = await ctx.loaders.supplierById.load(po.supplierId);
    if (!supplier) throw new Error(`supplier ${po.supplierId} of order ${po.id} is missing`);
    return supplier;
  },
  items: (po, _, ctx) => ctx.loaders.poItems.load(po.id),
  totalCost: async (po, _, ctx) =>
    (await ctx.loaders.poItems.load(po.id)).reduce((sum, i) => sum.plus(new Decimal(i.unitCost.toString()).times(i.quantityOrdered)), new Decimal(0)).toFixed(2),
  orderedBy: (po) => ref('User', po.orderedBy),
};
