import { createDomainContextFactory, tenantScope as scopeOf, type DomainContext, type TenantScope } from '@umi/db';
import type { PosDeps } from './deps';
import { createLoaders, type Loaders } from './loaders';

export type PosContext = DomainContext<PosDeps, Loaders>;

/** The tenant part of the context. */
export const tenantScope = (ctx: PosContext): TenantScope<Loaders> => scopeOf<Loaders>(ctx);

/** Resolves the caller's tenant from the verified token and builds the request's loaders. */
export const createContextFactory = (deps: PosDeps) => createDomainContextFactory(deps, createLoaders);
