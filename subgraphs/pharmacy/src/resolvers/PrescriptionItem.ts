import { ref } from '@umi/subgraph';
import type { PrescriptionItemResolvers } from '../generated/resolvers';

export const PrescriptionItem: PrescriptionItemResolvers = {
  product: (i) => ref('Product', i.productId),
};
