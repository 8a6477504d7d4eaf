import { canSellAt, canViewBranch, canViewReportsOf, dateInZone, isTenantWide, type Principal } from '@umi/kit';
import { auditFields, requireBranchAccess, stockActor, type BranchRecord, type StockActor } from '@umi/db';
import { tenantScope, type PosContext } from './context';

/**
 * What a caller may do at a branch: view its sales; sell there (ADMIN, OPERATIONS, or a CASHIER or
 * PHARMACIST with the branch or canProcessSales for it); read its reports (ADMIN, OPERATIONS, or
 * canViewReports for it); manage its tills (ADMIN, OPERATIONS).
 */
export type BranchNeed = 'view' | 'sell' | 'reports' | 'manage';

const RULES: Record<BranchNeed, (p: Principal, id: string) => boolean> = {
  view: canViewBranch,
  sell: canSellAt,
  reports: canViewReportsOf,
  manage: (p) => isTenantWide(p),
};

export function allows(p: Principal, branchId: string, need: BranchNeed): boolean {
  return RULES[need](p, branchId);
}

export function requireBranch(ctx: PosContext, branchId: string, need: BranchNeed, field = 'branchId'): Promise<BranchRecord> {
  return requireBranchAccess(ctx.deps.branches, ctx.principal!, tenantScope(ctx).tenant.id, branchId, RULES[need], field);
}

/** The branch's calendar date at `at`. */
export function branchDate(branch: BranchRecord, at: Date = new Date()): string {
  return dateInZone(branch.timezone, at);
}

export const actorOf = (ctx: PosContext): StockActor => stockActor(ctx, 'pos');
export const auditOf = auditFields;
