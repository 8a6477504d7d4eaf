import type { Patient as PatientRow, Prescription as PrescriptionRow, PrescriptionItem as ItemRow, SafetyAlert } from '@umi/db/src/generated/tenant/client';
import { tenantScope, type PharmacyContext } from '../context';
import type { DispensedRow } from '../loaders';
import { readMedicalHistory } from '../services/patients';
import type { RegisterRow } from '../services/register';

const ref = (__typename: string, id: string) => ({ __typename, id });

export const Patient = {
  __resolveReference: (r: { id: string }, ctx: PharmacyContext) => tenantScope(ctx).loaders.patientById.load(r.id),
  medicalHistory: (p: PatientRow, _: unknown, ctx: PharmacyContext) => readMedicalHistory(ctx, p),
  homeBranch: (p: PatientRow) => ref('Branch', p.branchId),
  prescriptions: async (p: PatientRow, a: { status?: string | null }, ctx: PharmacyContext) => {
    const all = await tenantScope(ctx).loaders.prescriptionsByPatient.load(p.id);
    return a.status ? all.filter((rx) => rx.status === a.status) : all;
  },
};

export const Prescription = {
  __resolveReference: (r: { id: string }, ctx: PharmacyContext) => tenantScope(ctx).loaders.prescriptionById.load(r.id),
  patient: (rx: PrescriptionRow, _: unknown, ctx: PharmacyContext) => tenantScope(ctx).loaders.patientById.load(rx.patientId),
  branch: (rx: PrescriptionRow) => ref('Branch', rx.branchId),
  items: (rx: PrescriptionRow, _: unknown, ctx: PharmacyContext) => tenantScope(ctx).loaders.itemsByPrescription.load(rx.id),
  warnings: (rx: PrescriptionRow, _: unknown, ctx: PharmacyContext) => tenantScope(ctx).loaders.alertsByPrescription.load(rx.id),
  verifiedBy: (rx: PrescriptionRow) => (rx.verifiedBy ? ref('User', rx.verifiedBy) : null),
  pharmacist: (rx: PrescriptionRow) => (rx.pharmacistId ? ref('User', rx.pharmacistId) : null),
  dispensedItems: (rx: PrescriptionRow, _: unknown, ctx: PharmacyContext) => tenantScope(ctx).loaders.dispensedByPrescription.load(rx.id),
};

export const PrescriptionItem = {
  product: (i: ItemRow) => ref('Product', i.productId),
};

export const DispensedItem = {
  product: (d: DispensedRow) => ref('Product', d.product_id),
  batchNumber: (d: DispensedRow) => d.batch_number,
  expiryDate: (d: DispensedRow) => d.expiry_date,
  dispensedBy: (d: DispensedRow) => ref('User', d.dispensed_by),
  dispensedAt: (d: DispensedRow) => d.dispensed_at,
};

/** Stored alerts (SafetyAlert rows) and ad-hoc results share the SafetyWarning type. */
export const SafetyWarning = {
  productIds: (w: SafetyAlert | { productIds: string[] }) => w.productIds,
  overriddenAt: (w: Partial<SafetyAlert>) => w.overriddenAt ?? null,
  overrideReason: (w: Partial<SafetyAlert>) => w.overrideReason ?? null,
};

export const ControlledRegisterLine = {
  timestamp: (r: RegisterRow) => r.occurred_at,
  balanceAfter: (r: RegisterRow) => r.balance_after,
  batchNumber: (r: RegisterRow) => r.batch_number,
  movementType: (r: RegisterRow) => r.movement_type,
  product: (r: RegisterRow) => ref('Product', r.product_id),
  patient: (r: RegisterRow, _: unknown, ctx: PharmacyContext) => (r.patient_id ? tenantScope(ctx).loaders.patientById.load(r.patient_id) : null),
  prescription: (r: RegisterRow, _: unknown, ctx: PharmacyContext) => (r.prescription_id ? tenantScope(ctx).loaders.prescriptionById.load(r.prescription_id) : null),
  pharmacist: (r: RegisterRow) => (r.pharmacist_id ? ref('User', r.pharmacist_id) : null),
};
