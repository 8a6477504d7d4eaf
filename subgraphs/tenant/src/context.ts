import { ForbiddenError, type Principal, type RequestBase } from '@umi/kit';
import type { Scope, TenantRecord } from '@umi/db';
import type { TenantDeps } from './deps';
import { createLoaders, type Loaders } from './loaders';

export interface TenantContext extends RequestBase {
  deps: TenantDeps;
  /** The caller's tenant (from the verified token); null for the platform operator and anonymous calls. */
  tenant: TenantRecord | null;
  /** Row-level-security scope of every shared-schema query of this request. */
  scope: Scope | null;
  loaders: Loaders;
}

// A scope no row can match: what an anonymous request's loaders run under.
const NOBODY: Scope = { kind: 'tenant', tenantId: '00000000-0000-0000-0000-000000000000' };

/**
 * Sets who the request acts as: on arrival from the verified token, and after login or refresh so
 * that the payload's `user` resolves as the user who just signed in.
 */
export async function actAs(ctx: Omit<TenantContext, 'tenant' | 'scope' | 'loaders'> & Partial<TenantContext>, p: Principal | null): Promise<TenantContext> {
  let tenant: TenantRecord | null = null;
  let scope: Scope | null = null;
  if (p?.tenantId) {
    tenant = await ctx.deps.directory.resolve(p.tenantId);
    if (!tenant || tenant.status !== 'active') throw new ForbiddenError('Tenant is not active');
    scope = { kind: 'tenant', tenantId: tenant.id };
  } else if (p?.role === 'SUPER_ADMIN') {
    scope = { kind: 'platform' };
  }
  return Object.assign(ctx, { principal: p, tenant, scope, loaders: createLoaders(ctx.deps.shared, scope ?? NOBODY) }) as TenantContext;
}

/** Resolves the tenant of an authenticated request and builds its scoped loaders. */
export function createContextFactory(deps: TenantDeps) {
  return (base: RequestBase): Promise<TenantContext> => actAs({ ...base, deps }, base.principal);
}
