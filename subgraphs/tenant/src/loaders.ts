import DataLoader from 'dataloader';
import { sharedTx, type Scope, type SharedClient } from '@umi/db';
import type { Branch, Tenant, User } from '@umi/db/src/generated/shared/client';

function byKey<T, K>(keys: readonly K[], rows: T[], key: (r: T) => K): (T | null)[] {
  const map = new Map(rows.map((r) => [key(r), r]));
  return keys.map((k) => map.get(k) ?? null);
}

/**
 * Per-request loaders: every entity lookup of a request is batched into one query per type, run
 * under the caller's row-level-security scope, so another tenant's ids resolve to null.
 */
export function createLoaders(db: SharedClient, scope: Scope) {
  const run = <T>(fn: Parameters<typeof sharedTx<T>>[2]) => sharedTx(db, scope, fn);
  return {
    tenantById: new DataLoader<string, Tenant | null>(async (ids) =>
      byKey(ids, await run((tx) => tx.tenant.findMany({ where: { id: { in: [...ids] }, deletedAt: null } })), (t) => t.id),
    ),
    branchById: new DataLoader<string, Branch | null>(async (ids) =>
      byKey(ids, await run((tx) => tx.branch.findMany({ where: { id: { in: [...ids] }, deletedAt: null } })), (b) => b.id),
    ),
    userById: new DataLoader<string, User | null>(async (ids) =>
      byKey(ids, await run((tx) => tx.user.findMany({ where: { id: { in: [...ids] }, deletedAt: null } })), (u) => u.id),
    ),
    branchesByUserId: new DataLoader<string, Branch[]>(async (userIds) => {
      const rows = await run((tx) =>
        tx.userBranch.findMany({ where: { userId: { in: [...userIds] }, branch: { deletedAt: null } }, include: { branch: true } }),
      );
      return userIds.map((id) =>
        rows
          .filter((r) => r.userId === id)
          .map((r) => r.branch)
          .sort((a, b) => a.code.localeCompare(b.code)),
      );
    }),
    branchCountByTenantId: new DataLoader<string, number>(async (ids) => {
      const rows = await run((tx) => tx.branch.groupBy({ by: ['tenantId'], where: { tenantId: { in: [...ids] }, deletedAt: null }, _count: { _all: true } }));
      return ids.map((id) => rows.find((r) => r.tenantId === id)?._count._all ?? 0);
    }),
    userCountByTenantId: new DataLoader<string, number>(async (ids) => {
      const rows = await run((tx) => tx.user.groupBy({ by: ['tenantId'], where: { tenantId: { in: [...ids] }, deletedAt: null }, _count: { _all: true } }));
      return ids.map((id) => rows.find((r) => r.tenantId === id)?._count._all ?? 0);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
