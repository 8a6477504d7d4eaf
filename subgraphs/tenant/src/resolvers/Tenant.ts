import type { TenantResolvers } from '../generated/resolvers';

export const Tenant: TenantResolvers = {
  /** Under the caller's scope: the platform operator any tenant, a tenant user its own. */
  __resolveReference: (ref, ctx) => ctx.loaders.tenantById.load(ref.id),
  plan: (t) => t.planCode,
  branchCount: (t, _, ctx) => ctx.loaders.branchCountByTenantId.load(t.id),
  userCount: (t, _, ctx) => ctx.loaders.userCountByTenantId.load(t.id),
};
