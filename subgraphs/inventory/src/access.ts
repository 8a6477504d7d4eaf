import { dateInZone, canManageBranch, canViewBranch, isTenantWide, type Principal } from '@umi/kit';
import { auditFields, requireBranchAccess, stockActor, type BranchRecord, type StockActor } from '@umi/db';
import { tenantScope, type InventoryContext } from './context';

/**
 * What a caller may do at a branch:
 * - view: read stock, prices, movements (any role with access to the branch);
 * - receive: receive goods, raise and receive purchase orders, hold or write off batches
 *   (ADMIN, OPERATIONS, canManageAllBranches, or the branch's PHARMACIST);
 * - manage: correct quantities (ADMIN, OPERATIONS, canManageAllBranches);
 * - transfer: send stock to another branch (ADMIN, OPERATIONS, or canTransferStock with access to it).
 */
export type BranchNeed = 'view' | 'receive' | 'manage' | 'transfer';

export function isManager(p: Principal): boolean {
  return isTenantWide(p) || p.permissions.canManageAllBranches;
}

export function allows(p: Principal, branchId: string, need: BranchNeed): boolean {
  switch (need) {
    case 'view':
      return canViewBranch(p, branchId);
    case 'receive':
      return canManageBranch(p, branchId);
    case 'manage':
      return isManager(p);
    case 'transfer':
      return isTenantWide(p) || (p.permissions.canTransferStock && canViewBranch(p, branchId));
  }
}

/**
 * The tenant's branch with this id, if the caller may act on it as `need` says. Another tenant's
 * branch id is NOT_FOUND (it is not in this tenant's directory); a branch of the tenant the caller
 * has no access to is FORBIDDEN.
 */
export function requireBranch(ctx: InventoryContext, branchId: string, need: BranchNeed, field = 'branchId'): Promise<BranchRecord> {
  return requireBranchAccess(ctx.deps.branches, ctx.principal!, tenantScope(ctx).tenant.id, branchId, (p, id) => allows(p, id, need), field);
}

/** The branch's calendar date now: the day against which expiry is judged. */
export function branchToday(branch: BranchRecord): string {
  return dateInZone(branch.timezone);
}

export const actorOf = (ctx: InventoryContext): StockActor => stockActor(ctx, 'inventory');
export const auditOf = auditFields;
