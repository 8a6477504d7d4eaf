import DataLoader from 'dataloader';
import { byId, groupBy, validIds } from '@umi/db';
import type { Branch, Tenant, User } from '@umi/db/shared-models';
import type { LoaderScope, SubgraphRuntime } from '@umi/subgraph';

/**
 * Per-request loaders: every entity lookup of a request is batched into one query per kind, run on
 * the shared schema under the caller's row-level-security scope, so another tenant's ids resolve
 * to null (and so does every id of an anonymous caller).
 */
export function createLoaders(scope: LoaderScope<SubgraphRuntime>) {
  const { shared } = scope;
  return {
    tenantById: new DataLoader<string, Tenant | null>(async (ids) =>
      byId(ids, await shared.transaction((tx) => tx.tenant.findMany({ where: { id: { in: validIds(ids) }, deletedAt: null } }))),
    ),
    branchById: new DataLoader<string, Branch | null>(async (ids) =>
      byId(ids, await shared.transaction((tx) => tx.branch.findMany({ where: { id: { in: validIds(ids) }, deletedAt: null } }))),
    ),
    userById: new DataLoader<string, User | null>(async (ids) =>
      byId(ids, await shared.transaction((tx) => tx.user.findMany({ where: { id: { in: validIds(ids) }, deletedAt: null } }))),
    ),
    /** A user's branches, by code. */
    branchesByUserId: new DataLoader<string, Branch[]>(async (userIds) => {
      const rows = await shared.transaction((tx) =>
        tx.userBranch.findMany({ where: { userId: { in: validIds(userIds) }, branch: { deletedAt: null } }, include: { branch: true } }),
      );
      const groups = groupBy(rows, (r) => r.userId);
      return userIds.map((id) => (groups.get(id.toLowerCase()) ?? []).map((r) => r.branch).sort((a, b) => a.code.localeCompare(b.code)));
    }),
    branchCountByTenantId: new DataLoader<string, number>(async (ids) => {
      const rows = await shared.transaction((tx) =>
        tx.branch.groupBy({ by: ['tenantId'], where: { tenantId: { in: validIds(ids) }, deletedAt: null }, _count: { _all: true } }),
      );
      return ids.map((id) => rows.find((r) => r.tenantId === id.toLowerCase())?._count._all ?? 0);
    }),
    userCountByTenantId: new DataLoader<string, number>(async (ids) => {
      const rows = await shared.transaction((tx) =>
        tx.user.groupBy({ by: ['tenantId'], where: { tenantId: { in: validIds(ids) }, deletedAt: null }, _count: { _all: true } }),
      );
      return ids.map((id) => rows.find((r) => r.tenantId === id.toLowerCase())?._count._all ?? 0);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
