import type { TenantContext } from '../context';

export const AuditLog = {
  user: (log: { userId: string }, _: unknown, ctx: TenantContext) => ctx.loaders.userById.load(log.userId),
};
