import { ref } from '@umi/subgraph';
import type { RefundItemResolvers, RefundResolvers } from '../generated/resolvers';
import { refundFiscal } from '../services/fiscal';

export const Refund: RefundResolvers = {
  refundedBy: (r) => ref('User', r.refundedBy),
  items: (r, _, ctx) => ctx.loaders.itemsByRefund.load(r.id),
  fiscal: (r, _, ctx) => refundFiscal(ctx, r),
};

export const RefundItem: RefundItemResolvers = {
  product: (i) => ref('Product', i.productId),
};
