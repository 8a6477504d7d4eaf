import { ref } from '@umi/subgraph';
import type { RefundResolvers } from '../generated/resolvers';

export const Refund: RefundResolvers = {
  refundedBy: (r) => ref('User', r.refundedBy),
};
