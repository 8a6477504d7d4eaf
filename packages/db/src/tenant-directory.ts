import { LRUCache } from 'lru-cache';
import { sharedTx, type SharedClient } from './shared-db';

export interface TenantRecord {
  id: string;
  name: string;
  subdomain: string;
  schemaName: string;
  status: string;
  /** ZRA taxpayer number, printed on receipts. */
  tpin: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Maps a tenant id or subdomain to its record (and so its schema) through the shared tenants
 * table, with a short-lived cache: every subgraph resolves the tenant of every request.
 * Suspending a tenant takes effect within `ttlMs`.
 */
export function createTenantDirectory(db: SharedClient, ttlMs = 30_000) {
  const cache = new LRUCache<string, TenantRecord | 'missing'>({ max: 10_000, ttl: ttlMs });

  async function lookup(key: string): Promise<TenantRecord | null> {
    const hit = cache.get(key);
    if (hit !== undefined) return hit === 'missing' ? null : hit;
    const isId = UUID.test(key);
    const row = await sharedTx(db, { kind: 'platform' }, (tx) =>
      tx.tenant.findFirst({
        where: isId ? { id: key.toLowerCase(), deletedAt: null } : { subdomain: key.toLowerCase(), deletedAt: null },
        select: { id: true, name: true, subdomain: true, schemaName: true, status: true, tpin: true },
      }),
    );
    cache.set(key, row ?? 'missing');
    return row;
  }

  return {
    /** The tenant with this id or subdomain, or null. */
    resolve: lookup,
    /** Forget cached entries, e.g. after a tenant's status changes in this process. */
    invalidate(keys: string[]): void {
      for (const k of keys) cache.delete(k);
    },
  };
}
export type TenantDirectory = ReturnType<typeof createTenantDirectory>;
