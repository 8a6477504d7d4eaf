import { LRUCache } from 'lru-cache';
import type { User } from '@umi/db/shared-models';

/**
 * Users that other subgraphs reference (a sale's cashier, a movement's user), per tenant. They are
 * shown, not trusted: a few seconds of staleness in a name spares an RLS transaction per sale.
 * Every key holds the tenant's id, so a tenant only ever reads its own entries. This process forgets
 * a user as soon as it changes one (`invalidate`); a change made by another process (another
 * replica of this subgraph) shows once the entry expires, after at most `ttlMs`.
 */
export function createUserDirectory(ttlMs = 10_000, max = 10_000) {
  const cache = new LRUCache<string, User>({ max, ttl: ttlMs });
  const key = (tenantId: string, userId: string) => `${tenantId}:${userId.toLowerCase()}`;
  return {
    /** The tenant's user `userId`, from the cache or else from `load` (the request's batched loader). */
    async get(tenantId: string, userId: string, load: (userId: string) => Promise<User | null>): Promise<User | null> {
      const hit = cache.get(key(tenantId, userId));
      if (hit) return hit;
      const user = await load(userId);
      if (user && user.tenantId === tenantId) cache.set(key(tenantId, user.id), user);
      return user;
    },
    /** Forget a user this process just changed. */
    invalidate(tenantId: string, userId: string): void {
      cache.delete(key(tenantId, userId));
    },
  };
}
export type UserDirectory = ReturnType<typeof createUserDirectory>;
