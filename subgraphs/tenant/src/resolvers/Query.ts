import { readJobQueues } from '@umi/db';
import { ForbiddenError } from '@umi/kit';
import { requireTenant } from '@umi/subgraph';
import type { QueryResolvers } from '../generated/resolvers';
import { branchRules } from '../policy';
import { listAuditLogs } from '../services/audit-logs';
import { listBranches } from '../services/branches';
import { readSettings } from '../services/settings';
import { listUsers } from '../services/users';
import { listApiClients } from '../services/api-clients';

export const Query: QueryResolvers = {
  apiClients: (_, __, ctx) => listApiClients(ctx),
  me: (_, __, ctx) => (ctx.principal ? ctx.loaders.userById.load(ctx.principal.userId) : null),
  /** The platform operator's scope sees every tenant. */
  tenants: (_, __, ctx) => ctx.shared.transaction((tx) => tx.tenant.findMany({ where: { deletedAt: null }, orderBy: { createdAt: 'asc' } })),
  plans: (_, __, ctx) => ctx.shared.transaction((tx) => tx.plan.findMany({ orderBy: { maxBranches: 'asc' } })),
  branches: (_, __, ctx) => listBranches(ctx),
  /** Another tenant's branch is null (row-level security); one of the tenant's the caller may not see, FORBIDDEN. */
  branch: async (_, args, ctx) => {
    const { principal } = requireTenant(ctx);
    const branch = await ctx.loaders.branchById.load(args.id);
    if (!branch) return null;
    if (!branchRules.view(principal, branch.id)) throw new ForbiddenError('No access to this branch');
    return branch;
  },
  users: (_, __, ctx) => listUsers(ctx),
  tenantSettings: (_, __, ctx) => readSettings(ctx),
  auditLogs: (_, args, ctx) => listAuditLogs(ctx, args),
  /** The operator's scope is the platform's, the only one `job_queue_status()` answers. */
  jobQueues: async (_, __, ctx) =>
    (await ctx.shared.transaction((tx) => readJobQueues(tx))).map((q) => ({
      name: q.name,
      pending: q.pending,
      active: q.active,
      failed: q.failed24h,
      completed: q.completed24h,
      oldestPendingSeconds: q.oldestPendingSeconds,
    })),
};
