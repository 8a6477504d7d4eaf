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
  /** The connection reference of the database server holding the tenant's schema (`primary`: DATABASE_URL). */
  server: string;
  /** The tenant is being moved to another server: its writes are paused (TENANT_MOVING). */
  moving: boolean;
}

/**
 * The Redis channel a tenant move publishes the tenant's id on, so that every process forgets its
 * cached directory entry at once instead of within the TTL.
 */
export const TENANT_DIRECTORY_CHANNEL = 'umi:tenant-directory';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Maps a tenant id or subdomain to its record (and so its schema) through the shared tenants
 * table, with a short-lived cache: every subgraph resolves the tenant of every request.
 * Suspending a tenant takes effect within `ttlMs`.
 */
export function createTenantDirectory(db: SharedClient, ttlMs = 30_000) {
  const cache = new LRUCache<string, TenantRecord | 'missing'>({ max: 10_000, ttl: ttlMs });

  // Bumped by every forget: a lookup that read the table before a move committed must not cache
  // its answer after the move's invalidation arrived (it would keep the old server for a TTL).
  let generation = 0;

  async function lookup(key: string): Promise<TenantRecord | null> {
    const hit = cache.get(key);
    if (hit !== undefined) return hit === 'missing' ? null : hit;
    const started = generation;
    const isId = UUID.test(key);
    const found = await sharedTx(db, { kind: 'platform' }, (tx) =>
      tx.tenant.findFirst({
        where: isId ? { id: key.toLowerCase(), deletedAt: null } : { subdomain: key.toLowerCase(), deletedAt: null },
        select: { id: true, name: true, subdomain: true, schemaName: true, status: true, tpin: true, movingSince: true, server: { select: { connectionRef: true } } },
      }),
    );
    const row: TenantRecord | null = found
      ? { id: found.id, name: found.name, subdomain: found.subdomain, schemaName: found.schemaName, status: found.status, tpin: found.tpin, server: found.server.connectionRef, moving: found.movingSince !== null }
      : null;
    if (started === generation) cache.set(key, row ?? 'missing');
    return row;
  }

  return {
    /** The tenant with this id or subdomain, or null. */
    resolve: lookup,
    /** Forget cached entries, e.g. after a tenant's status changes in this process. */
    invalidate(keys: string[]): void {
      generation += 1;
      for (const k of keys) cache.delete(k);
    },
    /** Forget every cached entry of the tenant with this id (by id and by subdomain), e.g. after a move. */
    forgetTenant(id: string): void {
      generation += 1;
      const lower = id.toLowerCase();
      for (const [k, v] of cache.entries()) if (k.toLowerCase() === lower || (v !== 'missing' && v.id === lower)) cache.delete(k);
    },
  };
}
export type TenantDirectory = ReturnType<typeof createTenantDirectory>;
