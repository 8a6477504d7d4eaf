import Decimal from 'decimal.js';
import type { PurchaseOrderItemResolvers } from '../generated/resolvers';
import { referencedProduct } from '../loaders';

export const PurchaseOrderItem: PurchaseOrderItemResolvers = {
  product: (i, _, ctx) => referencedProduct(ctx.loaders, i.productId),
  lineTotal: (i) => new Decimal(i.unitCost.toString()).times(i.quantityOrdered).toFixed(2),
};
