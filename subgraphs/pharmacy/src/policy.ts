import { allow, and, rule, type IRules } from 'graphql-shield';
import { canManageBranch, canViewBranch, dateInZone, isTenantWide, type Principal } from '@umi/kit';
import type { BranchRecord } from '@umi/db';
import type { StockActor } from '@umi/ledger';
import { auditFields, branchArg, hasRole, isTenantUser, requireBranch as requireBranchOf, stockActor, type BranchRule } from '@umi/subgraph';
import type { PharmacyContext } from './context';

/**
 * Who may do what in the pharmacy subgraph. The shield rules below and the services use the same
 * branch rules: the shield checks a branch named in the arguments, the services a branch known
 * only after reading a row (a prescription's, a patient's home branch).
 */

/** A PHARMACIST of the branch (or one who manages every branch). */
const isPharmacistAt: BranchRule = (p, id) => p.role === 'PHARMACIST' && (p.branchIds.includes(id) || p.permissions.canManageAllBranches);

export const branchRules = {
  /** See its prescriptions and patients registered there: anyone who may see the branch but cashiers. */
  view: (p: Principal, id: string) => p.role !== 'CASHIER' && canViewBranch(p, id),
  /** Enter, verify or cancel prescriptions there: ADMIN, OPERATIONS, or a PHARMACIST who may manage it. */
  prescribe: (p: Principal, id: string) => isTenantWide(p) || (p.role === 'PHARMACIST' && canManageBranch(p, id)),
  /** Dispense there: a PHARMACIST of the branch, nobody else. */
  dispense: isPharmacistAt,
  /** Read its controlled-substance register: ADMIN, OPERATIONS, or a PHARMACIST of the branch. */
  register: (p: Principal, id: string) => isTenantWide(p) || isPharmacistAt(p, id),
  /**
   * Trace a recalled lot through it (its batches, sales, transfers): anyone who may see the branch,
   * cashiers included; the patients and prescriptions reached only where `view` also holds.
   */
  recall: canViewBranch,
} satisfies Record<string, BranchRule>;
export type BranchNeed = keyof typeof branchRules;

/** May the caller read patients' medical history (in clear, each read audited)? PHARMACIST and ADMIN. */
export function readsMedicalHistory(p: Principal): boolean {
  return p.tenantId !== null && (p.role === 'PHARMACIST' || p.role === 'ADMIN');
}

/** Everyone but cashiers: prescriptions, interaction checks and rules, the register. */
const isClinical = hasRole('ADMIN', 'OPERATIONS', 'PHARMACIST');
/** Patients' records and the tenant's own interaction rules. */
const isPharmacistOrAdmin = hasRole('ADMIN', 'PHARMACIST');
const isPharmacist = hasRole('PHARMACIST');
const mayReadMedicalHistory = rule({ cache: 'contextual' })(
  (_p, _a, ctx: PharmacyContext) => ctx.scope !== null && readsMedicalHistory(ctx.scope.principal),
);

/**
 * Deny by default (the shield's fallback). Types reachable only below guarded fields are `allow`
 * on their plain fields; Prescription keeps its rule because `_entities` can reach it directly.
 */
export const permissions: IRules = {
  Query: {
    _service: allow,
    _entities: isTenantUser,
    patient: isTenantUser,
    patients: isTenantUser,
    prescription: isClinical,
    prescriptions: branchArg(branchRules.view),
    checkInteractions: isPharmacistOrAdmin,
    controlledSubstanceRegister: branchArg(branchRules.register),
    controlledRegisterExport: branchArg(branchRules.register),
    batchRecall: isTenantUser,
    interactionRules: isClinical,
  },
  Mutation: {
    createPatient: isPharmacistOrAdmin,
    updatePatient: isPharmacistOrAdmin,
    createPrescription: and(isClinical, branchArg(branchRules.prescribe, 'input.branchId')),
    verifyPrescription: isPharmacist,
    cancelPrescription: isClinical,
    dispensePrescription: isPharmacist,
    createInteractionRule: isPharmacistOrAdmin,
    deactivateInteractionRule: isPharmacistOrAdmin,
  },
  Patient: { '*': allow, medicalHistory: mayReadMedicalHistory, prescriptions: isClinical },
  Prescription: isClinical,
  PrescriptionItem: allow,
  DispensedItem: allow,
  SafetyWarning: allow,
  ControlledRegisterLine: allow,
  ControlledRegisterLineEdge: allow,
  ControlledRegisterExport: allow,
  RegisterBalance: allow,
  BatchRecall: allow,
  RecallBatch: allow,
  RecallMovement: allow,
  Sale: allow,
  InteractionRule: allow,
  PatientConnection: allow,
  PatientEdge: allow,
  PrescriptionConnection: allow,
  PrescriptionEdge: allow,
  PageInfo: allow,
  Product: allow,
  Branch: allow,
  User: allow,
  _Service: allow,
};

/** The tenant's branch `branchId` if the caller may `need` there (NOT_FOUND, FORBIDDEN otherwise). */
export function requireBranch(ctx: PharmacyContext, branchId: string, need: BranchNeed, field = 'branchId'): Promise<BranchRecord> {
  return requireBranchOf(ctx, branchId, branchRules[need], field);
}

/** The branch's calendar date at `at`. */
export function branchDate(branch: BranchRecord, at: Date = new Date()): string {
  return dateInZone(branch.timezone, at);
}

export const actorOf = (ctx: PharmacyContext): StockActor => stockActor(ctx, 'pharmacy');
export const auditOf = auditFields;
