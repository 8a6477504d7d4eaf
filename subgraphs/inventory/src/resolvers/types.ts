import Decimal from 'decimal.js';
import { dateInZone } from '@umi/kit';
import type {
  InventoryBatch as BatchRow,
  Product as ProductRow,
  PurchaseOrder as PurchaseOrderRow,
  PurchaseOrderItem as PurchaseOrderItemRow,
  StockMovement as MovementRow,
  StockTransfer as TransferRow,
  StockTransferItem as TransferItemRow,
} from '@umi/db/src/generated/tenant/client';
import { branchToday, requireBranch } from '../access';
import { tenantScope, type InventoryContext } from '../context';
import type { StockRow } from '../loaders';
import { branchStock, type LowStockEvent } from '../services/stock';

const branchRef = (id: string) => ({ __typename: 'Branch', id });
const userRef = (id: string | null) => (id ? { __typename: 'User', id } : null);

/** A branch-scoped field of a product: checks access to the branch, then loads for its "today". */
async function atBranch(ctx: InventoryContext, branchId: string, productId: string) {
  const branch = await requireBranch(ctx, branchId, 'view');
  return { branchId: branch.id, productId, today: branchToday(branch) };
}

export const Product = {
  __resolveReference: (ref: { id: string }, ctx: InventoryContext) => tenantScope(ctx).loaders.productById.load(ref.id),
  sellingPrice: async (p: ProductRow, a: { branchId: string }, ctx: InventoryContext) => tenantScope(ctx).loaders.price.load(await atBranch(ctx, a.branchId, p.id)),
  stock: async (p: ProductRow, a: { branchId: string }, ctx: InventoryContext) => tenantScope(ctx).loaders.stock.load(await atBranch(ctx, a.branchId, p.id)),
  batches: async (p: ProductRow, a: { branchId: string }, ctx: InventoryContext) =>
    tenantScope(ctx).loaders.batchesHeld.load(await atBranch(ctx, a.branchId, p.id)),
};

export const Branch = {
  __resolveReference: (ref: { id: string }) => ref,
  stock: async (b: { id: string }, a: { lowStockOnly?: boolean | null }, ctx: InventoryContext) =>
    branchStock(ctx, await requireBranch(ctx, b.id, 'view'), a.lowStockOnly === true),
};

export const StockLevel = {
  product: (s: StockRow, _: unknown, ctx: InventoryContext) => s.product ?? tenantScope(ctx).loaders.productById.load(s.productId),
  branch: (s: StockRow) => branchRef(s.branchId),
  lowStock: (s: StockRow) => s.quantityAvailable <= s.reorderLevel,
};

export const InventoryBatch = {
  product: (b: BatchRow, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.productById.load(b.productId),
  branch: (b: BatchRow) => branchRef(b.branchId),
  supplier: (b: BatchRow, _: unknown, ctx: InventoryContext) => (b.supplierId ? tenantScope(ctx).loaders.supplierById.load(b.supplierId) : null),
  quantityAvailable: async (b: BatchRow, _: unknown, ctx: InventoryContext) => {
    if (b.status !== 'AVAILABLE') return 0;
    const branch = await ctx.deps.branches.get(tenantScope(ctx).tenant.id, b.branchId);
    const today = dateInZone(branch?.timezone ?? 'UTC');
    return b.expiryDate.toISOString().slice(0, 10) > today ? b.quantityOnHand - b.quantityReserved : 0;
  },
  reorderLevel: async (b: BatchRow, _: unknown, ctx: InventoryContext) => (await tenantScope(ctx).loaders.settings.load(b))?.reorderLevel ?? 0,
  reorderQuantity: async (b: BatchRow, _: unknown, ctx: InventoryContext) => (await tenantScope(ctx).loaders.settings.load(b))?.reorderQuantity ?? 0,
  receivedAt: (b: BatchRow) => b.createdAt,
};

export const StockMovement = {
  product: (m: MovementRow, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.productById.load(m.productId),
  branch: (m: MovementRow) => branchRef(m.branchId),
  batch: (m: MovementRow, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.batchById.load(m.batchId),
  user: (m: MovementRow) => userRef(m.userId),
};

export const StockTransfer = {
  fromBranch: (t: TransferRow) => branchRef(t.fromBranchId),
  toBranch: (t: TransferRow) => branchRef(t.toBranchId),
  lines: (t: TransferRow, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.transferItems.load(t.id),
  product: async (t: TransferRow, _: unknown, ctx: InventoryContext) => {
    const [first] = await tenantScope(ctx).loaders.transferItems.load(t.id);
    return first ? tenantScope(ctx).loaders.productById.load(first.productId) : null;
  },
  quantity: async (t: TransferRow, _: unknown, ctx: InventoryContext) =>
    (await tenantScope(ctx).loaders.transferItems.load(t.id)).reduce((n, i) => n + i.quantity, 0),
  requestedBy: (t: TransferRow) => userRef(t.requestedBy),
};

export const StockTransferLine = {
  batchNumber: (i: TransferItemRow) => i.batchNumber ?? '',
};

export const PurchaseOrder = {
  branch: (po: PurchaseOrderRow) => branchRef(po.branchId),
  supplier: (po: PurchaseOrderRow, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.supplierById.load(po.supplierId),
  items: (po: PurchaseOrderRow, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.poItems.load(po.id),
  totalCost: async (po: PurchaseOrderRow, _: unknown, ctx: InventoryContext) =>
    (await tenantScope(ctx).loaders.poItems.load(po.id)).reduce((sum, i) => sum.plus(new Decimal(i.unitCost.toString()).times(i.quantityOrdered)), new Decimal(0)).toFixed(2),
  orderedBy: (po: PurchaseOrderRow) => userRef(po.orderedBy),
};

export const PurchaseOrderItem = {
  product: (i: PurchaseOrderItemRow, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.productById.load(i.productId),
  lineTotal: (i: PurchaseOrderItemRow) => new Decimal(i.unitCost.toString()).times(i.quantityOrdered).toFixed(2),
};

export const LowStockAlert = {
  product: (e: LowStockEvent, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.productById.load(e.productId),
  branch: (e: LowStockEvent) => branchRef(e.branchId),
  stock: async (e: LowStockEvent, _: unknown, ctx: InventoryContext) => tenantScope(ctx).loaders.stock.load(await atBranch(ctx, e.branchId, e.productId)),
};
