import { permissionsSchema } from '@umi/kit';
import type { User as UserRow } from '@umi/db/src/generated/shared/client';
import { LRUCache } from 'lru-cache';
import type { TenantContext } from '../context';

/**
 * Users referenced from other subgraphs (a sale's cashier, a movement's user) are shown, not
 * trusted: a few seconds of staleness in a name or email spares an RLS transaction per sale.
 * Keyed by tenant, so a tenant only ever reads its own entries.
 */
const referenced = new LRUCache<string, UserRow>({ max: 10_000, ttl: 10_000 });

export const User = {
  __resolveReference: async (ref: { id: string }, ctx: TenantContext) => {
    if (!ctx.tenant) return ctx.loaders.userById.load(ref.id);
    const key = `${ctx.tenant.id}:${ref.id}`;
    const hit = referenced.get(key);
    if (hit) return hit;
    const user = await ctx.loaders.userById.load(ref.id);
    if (user) referenced.set(key, user);
    return user;
  },
  tenant: (u: UserRow, _: unknown, ctx: TenantContext) => (u.tenantId ? ctx.loaders.tenantById.load(u.tenantId) : null),
  branches: (u: UserRow, _: unknown, ctx: TenantContext) => ctx.loaders.branchesByUserId.load(u.id),
  permissions: (u: UserRow) => permissionsSchema.parse(u.permissions ?? {}),
};
