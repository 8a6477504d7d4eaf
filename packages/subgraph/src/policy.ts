import { rule } from 'graphql-shield';
import { requireBranchAccess, type BranchDirectory, type BranchRecord } from '@umi/db';
import type { Principal, Role } from '@umi/kit';
import type { TenantScope } from './context';

/**
 * Building blocks of each subgraph's policy file. A policy names, for every field, who may call it;
 * the branch predicates it uses (`BranchRule`) are the same functions the services call when the
 * branch is only known after a read (a sale's, a till's), so the two can never disagree.
 */

/** May `principal` do something at `branchId`? */
export type BranchRule = (principal: Principal, branchId: string) => boolean;

interface PolicyContext {
  principal: Principal | null;
  scope: TenantScope | null;
}

/** A signed-in caller (any tenant, or the platform operator). */
export const isAuthenticated = rule({ cache: 'contextual' })((_p, _a, ctx: PolicyContext) => ctx.principal !== null);

/** A user of an active tenant. */
export const isTenantUser = rule({ cache: 'contextual' })((_p, _a, ctx: PolicyContext) => ctx.scope !== null);

/** The platform operator. */
export const isPlatformOperator = rule({ cache: 'contextual' })((_p, _a, ctx: PolicyContext) => ctx.principal?.role === 'SUPER_ADMIN');

/** A tenant user with one of `roles`. */
export function hasRole(...roles: Role[]) {
  return rule({ cache: 'contextual' })((_p, _a, ctx: PolicyContext) => ctx.scope !== null && roles.includes(ctx.scope.principal.role));
}

/** The value at a dotted path of the arguments (`input.branchId`). */
function argAt(args: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), args);
}

/**
 * A tenant user for whom `allowed` holds at the branch named by the argument at `path`. The branch's
 * existence in the tenant is checked by the service (`requireBranch`): NOT_FOUND there, FORBIDDEN here.
 */
export function branchArg(allowed: BranchRule, path = 'branchId') {
  return rule({ cache: 'strict' })((_p, args: unknown, ctx: PolicyContext) => {
    const id = argAt(args, path);
    return ctx.scope !== null && typeof id === 'string' && allowed(ctx.scope.principal, id.toLowerCase());
  });
}

/**
 * The tenant's branch `branchId` when `allowed` holds for the caller there: another tenant's branch
 * is NOT_FOUND, a branch the caller may not use FORBIDDEN. For branches known only after a read.
 */
export function requireBranch(
  ctx: { scope: TenantScope | null; deps: { branches: BranchDirectory } },
  branchId: string,
  allowed: BranchRule,
  field = 'branchId',
): Promise<BranchRecord> {
  if (ctx.scope === null) throw new Error('requireBranch outside a tenant scope');
  return requireBranchAccess(ctx.deps.branches, ctx.scope.principal, ctx.scope.tenant.id, branchId, allowed, field);
}
