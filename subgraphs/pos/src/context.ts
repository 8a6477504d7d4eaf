import { ForbiddenError, type RequestBase } from '@umi/kit';
import type { TenantClient, TenantRecord } from '@umi/db';
import type { PosDeps } from './deps';
import { createLoaders, type Loaders } from './loaders';

/** What a request of a tenant user works with: its tenant, that tenant's schema and loaders over it. */
export interface TenantScope {
  tenant: TenantRecord;
  /** Client bound to the tenant's own schema. */
  db: TenantClient;
  loaders: Loaders;
}

/** The platform operator and anonymous calls have no tenant, so no sales to read. */
interface NoTenant {
  tenant: null;
  db: null;
  loaders: null;
}

export type PosContext = RequestBase & { deps: PosDeps } & (TenantScope | NoTenant);

/** The tenant part of the context. The permission rules let only tenant users reach resolvers. */
export function tenantScope(ctx: PosContext): TenantScope {
  if (ctx.tenant === null) throw new ForbiddenError('A tenant user is required');
  return ctx;
}

/** Resolves the caller's tenant from the verified token and builds the request's loaders. */
export function createContextFactory(deps: PosDeps) {
  return async (base: RequestBase): Promise<PosContext> => {
    const tenantId = base.principal?.tenantId;
    if (!tenantId) return { ...base, deps, tenant: null, db: null, loaders: null };
    const tenant = await deps.directory.resolve(tenantId);
    if (!tenant || tenant.status !== 'active') throw new ForbiddenError('Tenant is not active');
    const db = deps.tenants.get(tenant.schemaName);
    return { ...base, deps, tenant, db, loaders: createLoaders(db) };
  };
}
