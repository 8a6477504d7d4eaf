import { parseInput, uuidSchema } from '@umi/kit';
import type { QueryResolvers } from '../generated/resolvers';
import { listProducts, productByBarcode } from '../services/products';
import { getPurchaseOrder, listPurchaseOrders, listSuppliers } from '../services/purchasing';
import { expiringBatches, lowStockEvent, stockMovements } from '../services/stock';
import { stockTransfers } from '../services/transfers';

export const Query: QueryResolvers = {
  /** A deleted product is not found here; references from history (sales, prescriptions) still resolve it. */
  product: async (_, args, ctx) => {
    const product = await ctx.loaders.productById.load(parseInput(uuidSchema, args.id, 'id'));
    return product && !product.deletedAt ? product : null;
  },
  productByBarcode: (_, args, ctx) => productByBarcode(ctx, args.barcode),
  products: (_, args, ctx) => listProducts(ctx, args),
  expiringBatches: (_, args, ctx) => expiringBatches(ctx, args),
  stockMovements: (_, args, ctx) => stockMovements(ctx, args),
  stockTransfers: (_, args, ctx) => stockTransfers(ctx, args),
  suppliers: (_, args, ctx) => listSuppliers(ctx, args.includeInactive === true),
  purchaseOrders: (_, args, ctx) => listPurchaseOrders(ctx, args),
  purchaseOrder: (_, args, ctx) => getPurchaseOrder(ctx, args.id),
  lowStockEvent: (_, args, ctx) => lowStockEvent(ctx, args.id),
};
