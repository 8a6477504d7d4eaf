import { ForbiddenError, type RequestBase } from '@umi/kit';
import type { SubgraphRuntime } from './runtime';
import type { TenantClient } from './tenant-clients';
import type { TenantRecord } from './tenant-directory';
import type { StockActor } from './stock';

/** What a request of a tenant user works with: its tenant, that tenant's schema and loaders over it. */
export interface TenantScope<L> {
  tenant: TenantRecord;
  /** Client bound to the tenant's own schema. */
  db: TenantClient;
  loaders: L;
}

/** The platform operator and anonymous calls have no tenant, so no tenant data to read. */
export interface NoTenant {
  tenant: null;
  db: null;
  loaders: null;
}

/** Context of the subgraphs that work on a tenant's schema (pharmacy, inventory, pos). */
export type DomainContext<D, L> = RequestBase & { deps: D } & (TenantScope<L> | NoTenant);

/** The tenant part of the context; the permission rules let only tenant users reach resolvers. */
export function tenantScope<L>(ctx: DomainContext<unknown, L>): TenantScope<L> {
  if (ctx.tenant === null) throw new ForbiddenError('A tenant user is required');
  return ctx;
}

/** Resolves the caller's tenant from the verified token and builds the request's loaders. */
export function createDomainContextFactory<D extends SubgraphRuntime, L>(deps: D, createLoaders: (db: TenantClient, tenant: TenantRecord, deps: D) => L) {
  return async (base: RequestBase): Promise<DomainContext<D, L>> => {
    const tenantId = base.principal?.tenantId;
    if (!tenantId) return { ...base, deps, tenant: null, db: null, loaders: null };
    const tenant = await deps.directory.resolve(tenantId);
    if (!tenant || tenant.status !== 'active') throw new ForbiddenError('Tenant is not active');
    const db = deps.tenants.get(tenant.schemaName);
    return { ...base, deps, tenant, db, loaders: createLoaders(db, tenant, deps) };
  };
}

/** The audit fields of the request's caller (who, from where, which request). */
export function auditFields(ctx: RequestBase) {
  return { userId: ctx.principal!.userId, ipAddress: ctx.ip, userAgent: ctx.userAgent, correlationId: ctx.requestId };
}

/** Who writes to the stock ledger in this request, for `service`'s event envelopes. */
export function stockActor(ctx: DomainContext<unknown, unknown>, service: string): StockActor {
  const { tenant } = tenantScope(ctx);
  return { schema: tenant.schemaName, tenantId: tenant.id, userId: ctx.principal!.userId, correlationId: ctx.requestId, service };
}
