import { AppError, ForbiddenError, UnauthenticatedError, type Principal } from '@umi/kit';
import { RequestCache, sharedTables, sql, type Scope, type SharedDb, type TenantDb, type TenantRecord } from '@umi/db';
import type { StockActor } from '@umi/ledger';
import type { RequestBase } from './server';
import type { SubgraphRuntime } from './runtime';

/** The caller's tenant and the data access bound to it: what a tenant user's request works with. */
export interface TenantScope {
  tenant: TenantRecord;
  /** Prisma models and tagged SQL bound to the tenant's own schema. */
  db: TenantDb;
  principal: Principal;
}

/**
 * The context of every subgraph's requests: the verified caller (RequestBase), the process's
 * dependencies, the shared schema under the caller's row-level-security scope, the caller's
 * tenant (null for the platform operator and anonymous calls) and the request's loaders.
 */
export interface SubgraphContext<D, L> extends RequestBase {
  deps: D;
  shared: SharedDb;
  scope: TenantScope | null;
  loaders: L;
  /** The request's view of the hot-read caches (bypassed in mutations; see RequestCache). */
  cache: RequestCache;
}

/** What a subgraph's loaders are built from, once per request. */
export interface LoaderScope<D> {
  deps: D;
  shared: SharedDb;
  scope: TenantScope | null;
  cache: RequestCache;
}

// A scope no row can match: what anonymous requests read the shared schema under.
const NOBODY: Scope = { kind: 'tenant', tenantId: '00000000-0000-0000-0000-000000000000' };

/** The caller's tenant scope; FORBIDDEN without one (the policy keeps such callers out first). */
export function requireTenant(ctx: { scope: TenantScope | null }): TenantScope {
  if (ctx.scope === null) throw new ForbiddenError('A tenant user is required');
  return ctx.scope;
}

/** The signed-in caller; UNAUTHENTICATED for anonymous requests. */
export function requirePrincipal(ctx: { principal: Principal | null }): Principal {
  if (ctx.principal === null) throw new UnauthenticatedError();
  return ctx.principal;
}

/**
 * Sets who a request acts as: on arrival from the verified token, and again in the tenant subgraph
 * after login or refresh, so that the payload resolves as the user who just signed in. A
 * suspended or unknown tenant is FORBIDDEN.
 */
export async function bindRequest<D extends SubgraphRuntime, L>(
  base: RequestBase & { deps: D },
  principal: Principal | null,
  createLoaders: (scope: LoaderScope<D>) => L,
): Promise<SubgraphContext<D, L>> {
  const { deps } = base;
  let scope: TenantScope | null = null;
  let shared: SharedDb;
  if (principal?.tenantId) {
    const tenant = await deps.directory.resolve(principal.tenantId);
    if (!tenant || tenant.status !== 'active') throw new ForbiddenError('Tenant is not active');
    scope = { tenant, db: deps.data.tenantDb(tenant), principal };
    shared = deps.data.shared({ kind: 'tenant', tenantId: tenant.id }, tenant);
    // An API client's token outlives nothing: revoking the client stops it on its next request.
    if (principal.scopes) {
      const live = await shared.transaction((tx) =>
        tx.sql.maybeOne(sql`SELECT 1 AS live FROM ${sharedTables.api_clients} WHERE id = ${principal.userId}::uuid AND revoked_at IS NULL`),
      );
      // Status 200: the gateway passes a subgraph's GraphQL errors on, but takes any other status as a transport failure.
      if (!live) throw new AppError('UNAUTHENTICATED', 'The API client has been revoked', { reason: 'API_CLIENT_REVOKED' }).withHttpStatus(200);
    }
  } else if (principal?.role === 'SUPER_ADMIN') {
    shared = deps.data.shared({ kind: 'platform' }, null);
  } else {
    shared = deps.data.shared(NOBODY, null);
  }
  // Rebinding (after login) keeps the request's cache view, which may already be in mutation mode.
  const cache = (base as { cache?: RequestCache }).cache ?? new RequestCache(deps.cache);
  const ctx = Object.assign(base, { principal, shared, scope, cache }) as Omit<SubgraphContext<D, L>, 'loaders'>;
  return Object.assign(ctx, { loaders: createLoaders({ deps, shared, scope, cache }) });
}

/** The audit fields of the request's caller (who, from where, which request). */
export function auditFields(ctx: RequestBase & { scope: TenantScope | null }) {
  return { userId: requireTenant(ctx).principal.userId, ipAddress: ctx.ip, userAgent: ctx.userAgent, correlationId: ctx.requestId };
}

/** Who writes to the stock ledger in this request, for `service`'s event envelopes. */
export function stockActor(ctx: RequestBase & { scope: TenantScope | null }, service: string): StockActor {
  const { tenant, principal } = requireTenant(ctx);
  return { tenantId: tenant.id, userId: principal.userId, isPharmacist: principal.role === 'PHARMACIST', correlationId: ctx.requestId, service };
}

/** A reference to an entity another subgraph resolves (`{ __typename, id }`). */
export interface EntityRef {
  __typename?: string;
  id: string;
}

/** The reference the gateway resolves through the entity's own subgraph. */
export function ref<T extends string>(__typename: T, id: string): { __typename: T; id: string } {
  return { __typename, id };
}
