import { canManageBranch, canViewBranch, dateInZone, isTenantWide, type Principal } from '@umi/kit';
import { auditFields, requireBranchAccess, stockActor, type BranchRecord, type StockActor } from '@umi/db';
import { tenantScope, type PharmacyContext } from './context';

/**
 * What a caller may do at a branch: view its prescriptions; prescribe there (enter, verify, cancel:
 * its PHARMACIST, or ADMIN/OPERATIONS); dispense (a PHARMACIST of the branch, nobody else); read
 * its controlled-substance register (its PHARMACIST, ADMIN, OPERATIONS).
 */
export type BranchNeed = 'view' | 'prescribe' | 'dispense' | 'register';

const isPharmacistAt = (p: Principal, id: string) => p.role === 'PHARMACIST' && (p.branchIds.includes(id) || p.permissions.canManageAllBranches);

const RULES: Record<BranchNeed, (p: Principal, id: string) => boolean> = {
  view: (p, id) => p.role !== 'CASHIER' && canViewBranch(p, id),
  prescribe: (p, id) => isTenantWide(p) || (p.role === 'PHARMACIST' && canManageBranch(p, id)),
  dispense: isPharmacistAt,
  register: (p, id) => isTenantWide(p) || isPharmacistAt(p, id),
};

export function allows(p: Principal, branchId: string, need: BranchNeed): boolean {
  return RULES[need](p, branchId);
}

export function requireBranch(ctx: PharmacyContext, branchId: string, need: BranchNeed, field = 'branchId'): Promise<BranchRecord> {
  return requireBranchAccess(ctx.deps.branches, ctx.principal!, tenantScope(ctx).tenant.id, branchId, RULES[need], field);
}

/** May the caller read patients' medical history? */
export function readsMedicalHistory(p: Principal | null): boolean {
  return !!p && p.tenantId !== null && (p.role === 'PHARMACIST' || p.role === 'ADMIN');
}

export function branchDate(branch: BranchRecord, at: Date = new Date()): string {
  return dateInZone(branch.timezone, at);
}

export const actorOf = (ctx: PharmacyContext): StockActor => stockActor(ctx, 'pharmacy');
export const auditOf = auditFields;
