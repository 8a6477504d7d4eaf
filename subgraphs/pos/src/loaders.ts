import DataLoader from 'dataloader';
import { byId, validIds, type TenantClient } from '@umi/db';
import type { Sale } from '@umi/db/src/generated/tenant/client';

/**
 * Per-request loaders over the caller's tenant schema: every entity lookup of a request is
 * batched into one query per type, and results come back in key order with null for misses.
 */
export function createLoaders(db: TenantClient) {
  return {
    saleById: new DataLoader<string, Sale | null>(async (ids) =>
      byId(ids, await db.sale.findMany({ where: { id: { in: validIds(ids) } } })),
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
