import { branchToday } from '../access';
import { tenantScope, type InventoryContext } from '../context';
import { createProduct, deactivateProduct, setBranchProductSettings, updateProduct } from '../services/products';
import { adjustStock, receiveStock, setBatchStatus, writeOffExpiredStock } from '../services/stock';
import { transferStock } from '../services/transfers';
import { cancelPurchaseOrder, createPurchaseOrder, createSupplier, receivePurchaseOrder, sendPurchaseOrder } from '../services/purchasing';

type Input = { input: unknown };

export const Mutation = {
  createProduct: (_: unknown, a: Input, ctx: InventoryContext) => createProduct(ctx, a.input),
  updateProduct: (_: unknown, a: Input & { id: string }, ctx: InventoryContext) => updateProduct(ctx, a.id, a.input),
  deactivateProduct: (_: unknown, a: { id: string }, ctx: InventoryContext) => deactivateProduct(ctx, a.id),
  setBranchProductSettings: async (_: unknown, a: Input, ctx: InventoryContext) => {
    const { branch, productId } = await setBranchProductSettings(ctx, a.input);
    return tenantScope(ctx).loaders.stock.load({ branchId: branch.id, productId, today: branchToday(branch) });
  },
  receiveStock: (_: unknown, a: Input, ctx: InventoryContext) => receiveStock(ctx, a.input),
  adjustStock: (_: unknown, a: Input, ctx: InventoryContext) => adjustStock(ctx, a.input),
  setBatchStatus: (_: unknown, a: { id: string; status: string; reason: string }, ctx: InventoryContext) => setBatchStatus(ctx, a),
  writeOffExpiredStock: (_: unknown, a: { branchId: string }, ctx: InventoryContext) => writeOffExpiredStock(ctx, a.branchId),
  transferStock: (_: unknown, a: Input, ctx: InventoryContext) => transferStock(ctx, a.input),
  createSupplier: (_: unknown, a: Input, ctx: InventoryContext) => createSupplier(ctx, a.input),
  createPurchaseOrder: (_: unknown, a: Input, ctx: InventoryContext) => createPurchaseOrder(ctx, a.input),
  sendPurchaseOrder: (_: unknown, a: { id: string }, ctx: InventoryContext) => sendPurchaseOrder(ctx, a.id),
  receivePurchaseOrder: (_: unknown, a: Input, ctx: InventoryContext) => receivePurchaseOrder(ctx, a.input),
  cancelPurchaseOrder: (_: unknown, a: { id: string }, ctx: InventoryContext) => cancelPurchaseOrder(ctx, a.id),
};
