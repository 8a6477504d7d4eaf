import { LRUCache } from 'lru-cache';
import { ForbiddenError, NotFoundError, isTenantWide, parseInput, uuidSchema, type Principal } from '@umi/kit';
import { sharedTx, type SharedClient } from './shared-db';
import type { Branch } from './generated/shared/client';

/** A branch as the shared schema holds it: that it is the tenant's, its code, zone and details. */
export type BranchRecord = Branch;

interface Entry {
  byId: Map<string, BranchRecord>;
  loadedAt: number;
}

/**
 * A tenant's branches, cached per tenant. Branches live in the shared schema (owned by the tenant
 * subgraph), so the domain subgraphs check every branch id a client sends against this list: an id
 * of another tenant's branch is simply not in it. The tenant subgraph also answers references to
 * branches (a sale's branch, a subscription payload's) from it, without a query each time. A miss reloads the list (at most every
 * `missReloadMs`), so a branch created a moment ago in another process is found at once.
 */
export function createBranchDirectory(db: SharedClient, ttlMs = 30_000, missReloadMs = 1_000) {
  const cache = new LRUCache<string, Entry>({ max: 10_000 });
  const inflight = new Map<string, Promise<Entry>>();

  function load(tenantId: string): Promise<Entry> {
    let p = inflight.get(tenantId);
    if (!p) {
      p = sharedTx(db, { kind: 'tenant', tenantId }, (tx) =>
        tx.branch.findMany({ where: { tenantId, deletedAt: null } }),
      )
        .then((rows) => {
          const entry = { byId: new Map(rows.map((r) => [r.id, r])), loadedAt: Date.now() };
          cache.set(tenantId, entry);
          return entry;
        })
        .finally(() => inflight.delete(tenantId));
      inflight.set(tenantId, p);
    }
    return p;
  }

  return {
    /** The tenant's branch with this id, or null (unknown, deleted, or another tenant's). */
    async get(tenantId: string, branchId: string): Promise<BranchRecord | null> {
      const id = branchId.toLowerCase();
      let entry = cache.get(tenantId);
      if (!entry || Date.now() - entry.loadedAt > ttlMs) entry = await load(tenantId);
      const hit = entry.byId.get(id);
      if (hit) return hit;
      if (Date.now() - entry.loadedAt > missReloadMs) entry = await load(tenantId);
      return entry.byId.get(id) ?? null;
    },
    /** Forget a tenant's branches, e.g. after this process changed one. */
    invalidate(tenantId: string): void {
      cache.delete(tenantId);
    },
    /** Every branch of the tenant. */
    async list(tenantId: string): Promise<BranchRecord[]> {
      let entry = cache.get(tenantId);
      if (!entry || Date.now() - entry.loadedAt > ttlMs) entry = await load(tenantId);
      return [...entry.byId.values()];
    },
  };
}
export type BranchDirectory = ReturnType<typeof createBranchDirectory>;

/**
 * The tenant's branch `branchId`, if `allowed(principal, id)`. Another tenant's branch is NOT_FOUND
 * (it is not in this tenant's directory); a branch of the tenant the caller may not use is
 * FORBIDDEN. Branch-scoped callers are refused before the lookup, so they learn nothing of other
 * branches' ids.
 */
export async function requireBranchAccess(
  directory: BranchDirectory,
  principal: Principal,
  tenantId: string,
  branchId: string,
  allowed: (p: Principal, id: string) => boolean,
  field = 'branchId',
): Promise<BranchRecord> {
  const id = parseInput(uuidSchema, branchId, field);
  if (!isTenantWide(principal) && !allowed(principal, id)) throw new ForbiddenError('No access to this branch');
  const branch = await directory.get(tenantId, id);
  if (!branch) throw new NotFoundError('Branch', { field });
  if (!allowed(principal, branch.id)) throw new ForbiddenError('No access to this branch');
  return branch;
}
