import { parseInput, uuidSchema } from '@umi/kit';
import { tenantScope, type InventoryContext } from '../context';
import { listProducts, productByBarcode } from '../services/products';
import { expiringBatches, lowStockEvent, stockMovements } from '../services/stock';
import { stockTransfers } from '../services/transfers';
import { getPurchaseOrder, listPurchaseOrders, listSuppliers } from '../services/purchasing';

type Args<T> = T & Record<string, unknown>;

export const Query = {
  /** A deleted product is not found here; references from history (sales, prescriptions) still resolve it. */
  product: async (_: unknown, args: { id: string }, ctx: InventoryContext) => {
    const product = await tenantScope(ctx).loaders.productById.load(parseInput(uuidSchema, args.id, 'id'));
    return product && !product.deletedAt ? product : null;
  },
  productByBarcode: (_: unknown, args: { barcode: string }, ctx: InventoryContext) => productByBarcode(ctx, args.barcode),
  products: (_: unknown, args: Args<object>, ctx: InventoryContext) => listProducts(ctx, args),
  expiringBatches: (_: unknown, args: { branchId: string; withinDays: number }, ctx: InventoryContext) => expiringBatches(ctx, args),
  stockMovements: (_: unknown, args: Args<object>, ctx: InventoryContext) => stockMovements(ctx, args),
  stockTransfers: (_: unknown, args: { branchId: string; first: number }, ctx: InventoryContext) => stockTransfers(ctx, args),
  suppliers: (_: unknown, args: { includeInactive?: boolean | null }, ctx: InventoryContext) => listSuppliers(ctx, args.includeInactive === true),
  purchaseOrders: (_: unknown, args: Args<object>, ctx: InventoryContext) => listPurchaseOrders(ctx, args),
  purchaseOrder: (_: unknown, args: { id: string }, ctx: InventoryContext) => getPurchaseOrder(ctx, args.id),
  lowStockEvent: (_: unknown, args: { id: string }, ctx: InventoryContext) => lowStockEvent(ctx, args.id),
};
