import type { Tenant as TenantRow } from '@umi/db/src/generated/shared/client';
import type { TenantContext } from '../context';

export const Tenant = {
  __resolveReference: (ref: { id: string }, ctx: TenantContext) => ctx.loaders.tenantById.load(ref.id),
  plan: (t: TenantRow) => t.planCode,
  branchCount: (t: TenantRow, _: unknown, ctx: TenantContext) => ctx.loaders.branchCountByTenantId.load(t.id),
  userCount: (t: TenantRow, _: unknown, ctx: TenantContext) => ctx.loaders.userCountByTenantId.load(t.id),
};
