import { permissionsSchema } from '@umi/kit';
import type { User as UserRow } from '@umi/db/src/generated/shared/client';
import type { TenantContext } from '../context';

export const User = {
  __resolveReference: (ref: { id: string }, ctx: TenantContext) => ctx.loaders.userById.load(ref.id),
  tenant: (u: UserRow, _: unknown, ctx: TenantContext) => (u.tenantId ? ctx.loaders.tenantById.load(u.tenantId) : null),
  branches: (u: UserRow, _: unknown, ctx: TenantContext) => ctx.loaders.branchesByUserId.load(u.id),
  permissions: (u: UserRow) => permissionsSchema.parse(u.permissions ?? {}),
};
