import { createDomainContextFactory, tenantScope as scopeOf, type DomainContext, type TenantScope } from '@umi/db';
import type { InventoryDeps } from './deps';
import { createLoaders, type Loaders } from './loaders';

export type InventoryContext = DomainContext<InventoryDeps, Loaders>;

/** The tenant part of the context. */
export const tenantScope = (ctx: InventoryContext): TenantScope<Loaders> => scopeOf<Loaders>(ctx);

/** Resolves the caller's tenant from the verified token and builds the request's loaders. */
export const createContextFactory = (deps: InventoryDeps) => createDomainContextFactory(deps, createLoaders);
