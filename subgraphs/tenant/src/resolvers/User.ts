import { permissionsSchema } from '@umi/kit';
import type { Role, UserResolvers } from '../generated/resolvers';

export const User: UserResolvers = {
  /**
   * A tenant user's references (a sale's cashier, a movement's user) come from the loader, which
   * reads through the exact caches when they are on; with caches off, from the per-tenant user
   * directory, a few seconds stale at most. The platform operator's always from the loader.
   */
  __resolveReference: (ref, ctx) =>
    ctx.scope && !ctx.deps.cache ? ctx.deps.users.get(ctx.scope.tenant.id, ref.id, (id) => ctx.loaders.userById.load(id)) : ctx.loaders.userById.load(ref.id),
  role: (u) => u.role as Role,
  tenant: (u, _, ctx) => (u.tenantId ? ctx.loaders.tenantById.load(u.tenantId) : null),
  branches: (u, _, ctx) => ctx.loaders.branchesByUserId.load(u.id),
  permissions: (u) => permissionsSchema.parse(u.permissions ?? {}),
};
