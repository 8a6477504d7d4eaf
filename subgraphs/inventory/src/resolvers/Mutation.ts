import type { MutationResolvers } from '../generated/resolvers';
import { branchToday } from '../policy';
import { createProduct, deactivateProduct, setBranchProductSettings, updateProduct } from '../services/products';
import { cancelPurchaseOrder, createPurchaseOrder, createSupplier, receivePurchaseOrder, sendPurchaseOrder } from '../services/purchasing';
import { releaseQuarantine, writeOffQuarantine } from '../services/quarantine';
import { adjustStock, receiveStock, setBatchStatus, writeOffExpiredStock } from '../services/stock';
import { transferStock } from '../services/transfers';

export const Mutation: MutationResolvers = {
  createProduct: (_, args, ctx) => createProduct(ctx, args.input),
  updateProduct: (_, args, ctx) => updateProduct(ctx, args.id, args.input),
  deactivateProduct: (_, args, ctx) => deactivateProduct(ctx, args.id),
  setBranchProductSettings: async (_, args, ctx) => {
    const { branch, productId } = await setBranchProductSettings(ctx, args.input);
    return ctx.loaders.stock.load({ branchId: branch.id, productId, today: branchToday(branch) });
  },
  receiveStock: (_, args, ctx) => receiveStock(ctx, args.input),
  adjustStock: (_, args, ctx) => adjustStock(ctx, args.input),
  setBatchStatus: (_, args, ctx) => setBatchStatus(ctx, args),
  writeOffExpiredStock: (_, args, ctx) => writeOffExpiredStock(ctx, args),
  releaseQuarantine: (_, args, ctx) => releaseQuarantine(ctx, args.input),
  writeOffQuarantine: (_, args, ctx) => writeOffQuarantine(ctx, args.input),
  transferStock: (_, args, ctx) => transferStock(ctx, args.input),
  createSupplier: (_, args, ctx) => createSupplier(ctx, args.input),
  createPurchaseOrder: (_, args, ctx) => createPurchaseOrder(ctx, args.input),
  sendPurchaseOrder: (_, args, ctx) => sendPurchaseOrder(ctx, args.id),
  receivePurchaseOrder: (_, args, ctx) => receivePurchaseOrder(ctx, args.input),
  cancelPurchaseOrder: (_, args, ctx) => cancelPurchaseOrder(ctx, args.id),
};
