import { ref } from '@umi/subgraph';
import type { SaleItemResolvers } from '../generated/resolvers';
import type { TaxCategory } from '@umi/supply';

export const SaleItem: SaleItemResolvers = {
  product: (i) => ref('Product', i.productId),
  taxCategory: (i) => i.taxCategory as TaxCategory,
  refundedQuantity: (i, _, ctx) => ctx.loaders.refundedQuantityBySaleItem.load(i.id),
};
