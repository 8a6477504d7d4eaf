import { ref } from '@umi/subgraph';
import type { DispensedItemResolvers } from '../generated/resolvers';

export const DispensedItem: DispensedItemResolvers = {
  product: (d) => ref('Product', d.product_id),
  batchNumber: (d) => d.batch_number,
  expiryDate: (d) => d.expiry_date,
  dispensedBy: (d) => ref('User', d.dispensed_by),
  dispensedAt: (d) => d.dispensed_at,
};
