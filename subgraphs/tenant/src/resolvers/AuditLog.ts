import type { AuditLogResolvers } from '../generated/resolvers';

export const AuditLog: AuditLogResolvers = {
  user: (log, _, ctx) => ctx.loaders.userById.load(log.userId),
};
