import { ref } from '@umi/subgraph';
import type { RefundItemResolvers, RefundResolvers } from '../generated/resolvers';

export const Refund: RefundResolvers = {
  refundedBy: (r) => ref('User', r.refundedBy),
  items: (r, _, ctx) => ctx.loaders.itemsByRefund.load(r.id),
};

export const RefundItem: RefundItemResolvers = {
  product: (i) => ref('Product', i.productId),
};
