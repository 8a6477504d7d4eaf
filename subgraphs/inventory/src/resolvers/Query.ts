import { tenantScope, type InventoryContext } from '../context';

export const Query = {
  /** A deleted product is not found here; references from history (sales, prescriptions) still resolve it. */
  product: async (_: unknown, args: { id: string }, ctx: InventoryContext) => {
    const product = await tenantScope(ctx).loaders.productById.load(args.id);
    return product && !product.deletedAt ? product : null;
  },
};
