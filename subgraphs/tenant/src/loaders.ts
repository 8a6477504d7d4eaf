import DataLoader from 'dataloader';
import { byId, groupBy, validIds, type CacheScope } from '@umi/db';
import type { Branch, Tenant, User } from '@umi/db/shared-models';
import type { LoaderScope, SubgraphRuntime } from '@umi/subgraph';

/**
 * Per-request loaders: every entity lookup of a request is batched into one query per kind, run on
 * the shared schema under the caller's row-level-security scope, so another tenant's ids resolve
 * to null (and so does every id of an anonymous caller).
 */
export function createLoaders(scope: LoaderScope<SubgraphRuntime>) {
  const { shared } = scope;
  /**
   * Per-key reads through the caller's tenant's caches (none for the operator or anonymous
   * callers), in front of a batched loader so that misses still share one query. Keys are the
   * requesting tenant's: under row-level security another tenant's id reads as null, cached as such.
   */
  const cachedById = <V>(name: string, scopes: CacheScope[], inner: DataLoader<string, V>) => {
    const tenantId = scope.scope?.tenant.id;
    if (!tenantId) return inner;
    return new DataLoader<string, V>((ids) =>
      Promise.all(ids.map((id) => scope.cache.read(name, tenantId, scopes, id.toLowerCase(), () => inner.load(id)).catch((err: Error) => err))),
    );
  };
  return {
    tenantById: cachedById(
      'tenant',
      [],
      new DataLoader<string, Tenant | null>(async (ids) =>
        byId(ids, await shared.transaction((tx) => tx.tenant.findMany({ where: { id: { in: validIds(ids) }, deletedAt: null } }))),
      ),
    ),
    branchById: new DataLoader<string, Branch | null>(async (ids) =>
      byId(ids, await shared.transaction((tx) => tx.branch.findMany({ where: { id: { in: validIds(ids) }, deletedAt: null } }))),
    ),
    // The password hash never leaves this loader: cached rows may sit in Redis, and nothing that
    // reads users through it checks passwords (sign-in reads the hash itself).
    userById: cachedById(
      'user',
      ['users'],
      new DataLoader<string, User | null>(async (ids) =>
        byId(
          ids,
          (await shared.transaction((tx) => tx.user.findMany({ where: { id: { in: validIds(ids) }, deletedAt: null } }))).map((u) => ({ ...u, passwordHash: '' })),
        ),
      ),
    ),
    /** A user's branches, by code. */
    branchesByUserId: cachedById('user_branches', ['users'], new DataLoader<string, Branch[]>(async (userIds) => {
      const rows = await shared.transaction((tx) =>
        tx.userBranch.findMany({ where: { userId: { in: validIds(userIds) }, branch: { deletedAt: null } }, include: { branch: true } }),
      );
      const groups = groupBy(rows, (r) => r.userId);
      return userIds.map((id) => (groups.get(id.toLowerCase()) ?? []).map((r) => r.branch).sort((a, b) => a.code.localeCompare(b.code)));
    })),
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
