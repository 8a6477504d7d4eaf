import { allow, and, rule, type IRules } from 'graphql-shield';
import { canViewBranch } from '@umi/kit';
import type { PharmacyContext } from './context';
import { readsMedicalHistory } from './access';

const isTenantUser = rule({ cache: 'contextual' })((_p, _a, ctx: PharmacyContext) => ctx.tenant !== null);
const role = (...roles: string[]) => rule({ cache: 'contextual' })((_p, _a, ctx: PharmacyContext) => ctx.tenant !== null && roles.includes(ctx.principal?.role ?? ''));
/** Everyone but cashiers: prescriptions, interactions, the register. */
const isClinical = role('ADMIN', 'OPERATIONS', 'PHARMACIST');
const isPharmacistOrAdmin = role('ADMIN', 'PHARMACIST');
const isPharmacist = role('PHARMACIST');
const mayReadMedicalHistory = rule({ cache: 'contextual' })((_p, _a, ctx: PharmacyContext) => ctx.tenant !== null && readsMedicalHistory(ctx.principal));
const seesBranchArg = rule({ cache: 'strict' })(
  (_p, args: { branchId?: string }, ctx: PharmacyContext) => !!ctx.principal && typeof args.branchId === 'string' && canViewBranch(ctx.principal, args.branchId.toLowerCase()),
);

/**
 * Deny by default (the shield's fallback). Branch rules on rows (a prescription's branch) are in
 * the services (access.ts). Types reachable only below guarded fields are `allow` on their plain
 * fields; Prescription keeps its rule because `_entities` can reach it directly.
 */
export const permissions: IRules = {
  Query: {
    _service: allow,
    _entities: isTenantUser,
    patient: isTenantUser,
    patients: isTenantUser,
    prescription: isClinical,
    prescriptions: and(isClinical, seesBranchArg),
    checkInteractions: isPharmacistOrAdmin,
    controlledSubstanceRegister: and(isClinical, seesBranchArg),
    interactionRules: isClinical,
  },
  Mutation: {
    createPatient: isPharmacistOrAdmin,
    updatePatient: isPharmacistOrAdmin,
    createPrescription: isClinical,
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
