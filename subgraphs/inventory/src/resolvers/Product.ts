import { tenantScope, type InventoryContext } from '../context';

export const Product = {
  __resolveReference: (ref: { id: string }, ctx: InventoryContext) => tenantScope(ctx).loaders.productById.load(ref.id),
};
