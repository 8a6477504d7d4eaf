import { addDays, ConflictError, ForbiddenError } from '@umi/kit';
import { recordAudit, sql, tables, type AuditEntry, type TenantTx } from '@umi/db';
import { SupplyReason } from '../reasons';
import type { SafetyAlert } from '@umi/db/tenant-models';
import { checkSafety, ingredients, type DrugRef, type SafetyWarning, type Severity } from './check';

/** What the SafetyWarning type is resolved from: a stored alert, or a warning of an on-demand check. */
export type WarningRow = SafetyAlert | SafetyWarning;

interface OtherDrug {
  product_id: string;
  name: string;
  generic_name: string | null;
  atc_code: string | null;
  controlled: boolean;
  prescriber_name: string;
  prescriber_license: string | null;
  active: boolean;
}

export interface ProductForCheck {
  id: string;
  name: string;
  genericName: string | null;
  atcCode: string | null;
  controlledSubstance: boolean;
}

interface Prescriber {
  name: string;
  license: string | null;
}

const drug = (p: ProductForCheck): DrugRef => ({ productId: p.id, name: p.name, genericName: p.genericName, atcCode: p.atcCode });
const samePrescriber = (a: Prescriber, b: Prescriber) =>
  a.license && b.license ? a.license.trim().toLowerCase() === b.license.trim().toLowerCase() : a.name.trim().toLowerCase() === b.name.trim().toLowerCase();

/**
 * The safety check of a set of products for a patient: interactions among them and with the
 * patient's current prescriptions (the shipped ONC list and the tenant's own rules), duplicates,
 * allergies, and double doctoring (a controlled product the patient got from another prescriber in
 * the last 30 days).
 */
export async function runSafetyCheck(
  tx: TenantTx,
  args: {
    items: ProductForCheck[];
    patient: { id: string; allergies: string[] } | null;
    excludePrescriptionId: string | null;
    /** More prescriptions to leave out: the ones a till sale supplies against. */
    excludePrescriptionIds?: string[];
    prescriber: Prescriber | null;
    today: string;
  },
): Promise<SafetyWarning[]> {
  const excluded = [...(args.excludePrescriptionIds ?? []), ...(args.excludePrescriptionId ? [args.excludePrescriptionId] : [])];
  const others = args.patient
    ? await tx.sql.query<OtherDrug>(
        sql`SELECT DISTINCT p.id::text AS product_id, p.name, p.generic_name, p.atc_code, p.controlled_substance AS controlled,
                   pr.prescriber_name, pr.prescriber_license,
                   (pr.status IN ('PENDING', 'VERIFIED', 'PARTIALLY_DISPENSED') AND pr.valid_until >= ${args.today}::date) AS active
            FROM ${tables.prescriptions} pr
            JOIN ${tables.prescription_items} i ON i.prescription_id = pr.id
            JOIN ${tables.products} p ON p.id = i.product_id
            WHERE pr.patient_id = ${args.patient.id}::uuid AND NOT (pr.id = ANY(${excluded}::uuid[])) AND pr.status <> 'CANCELLED'
              AND ((pr.status IN ('PENDING', 'VERIFIED', 'PARTIALLY_DISPENSED') AND pr.valid_until >= ${args.today}::date)
                   OR pr.date_prescribed >= ${addDays(args.today, -30)}::date)`,
      )
    : [];
  const rules = await tx.interactionRule.findMany({ where: { isActive: true } });
  const active = new Map<string, DrugRef>();
  for (const o of others.filter((o) => o.active)) active.set(o.product_id, { productId: o.product_id, name: o.name, genericName: o.generic_name, atcCode: o.atc_code });
  const warnings = checkSafety({
    items: args.items.map(drug),
    others: [...active.values()],
    allergies: args.patient?.allergies ?? [],
    customRules: rules.map((r) => ({ leftKey: r.leftKey, rightKey: r.rightKey, severity: r.severity as Severity, message: r.message, source: r.source ?? 'tenant rule' })),
  });
  const prescriber = args.prescriber;
  if (prescriber) {
    for (const item of args.items.filter((i) => i.controlledSubstance)) {
      const mine = new Set(ingredients(item.genericName));
      const elsewhere = others.filter(
        (o) =>
          o.controlled &&
          (o.product_id === item.id || ingredients(o.generic_name).some((g) => mine.has(g))) &&
          !samePrescriber({ name: o.prescriber_name, license: o.prescriber_license }, prescriber),
      );
      if (elsewhere.length > 0) {
        warnings.push({
          kind: 'DOUBLE_DOCTORING',
          severity: 'MAJOR',
          message: `${item.name}: the patient has had this controlled medicine from another prescriber (${[...new Set(elsewhere.map((o) => o.prescriber_name))].join(', ')}) in the last 30 days`,
          productIds: [item.id, ...new Set(elsewhere.map((o) => o.product_id))].filter((id, i, all) => all.indexOf(id) === i),
          source: 'Narcotic Drugs and Psychotropic Substances Act 2021, s.24',
        });
      }
    }
  }
  return warnings;
}

/** Records warnings as safety_alerts rows (every alert shown is kept); skips ones already recorded for the prescription. */
export async function recordAlerts(tx: TenantTx, warnings: SafetyWarning[], link: { prescriptionId: string | null; patientId: string | null; raisedBy: string }): Promise<void> {
  if (warnings.length === 0) return;
  const existing = link.prescriptionId ? await tx.safetyAlert.findMany({ where: { prescriptionId: link.prescriptionId }, select: { kind: true, message: true } }) : [];
  const seen = new Set(existing.map((a) => `${a.kind}|${a.message}`));
  const fresh = warnings.filter((w) => !seen.has(`${w.kind}|${w.message}`));
  if (fresh.length === 0) return;
  await tx.safetyAlert.createMany({
    data: fresh.map((w) => ({
      prescriptionId: link.prescriptionId,
      patientId: link.patientId,
      kind: w.kind,
      severity: w.severity,
      message: w.message,
      productIds: w.productIds,
      source: w.source,
      raisedBy: link.raisedBy,
    })),
  });
}

/**
 * The till's safety gate for a sale to a named patient: the warnings are recorded (every alert
 * shown is kept); a CONTRAINDICATED one stops the sale (CONFLICT SAFETY_OVERRIDE_REQUIRED) unless a
 * pharmacist gives an override reason (anyone else: FORBIDDEN). The override is kept on the alerts,
 * audited and reported as a high-severity compliance event, as at dispensing. Both name the sale
 * by id: it is checked before the sale has a number (checkout takes that last).
 */
export async function enforceSaleSafety(
  tx: TenantTx,
  args: {
    warnings: SafetyWarning[];
    patientId: string;
    saleId: string;
    branchId: string;
    overrideReason: string | null;
    actor: { userId: string; isPharmacist: boolean };
    audit: Omit<AuditEntry, 'action' | 'entityType' | 'entityId'>;
  },
): Promise<void> {
  const blocking = args.warnings.filter((w) => w.severity === 'CONTRAINDICATED');
  if (blocking.length > 0 && !args.overrideReason) {
    throw new ConflictError(`Contraindicated: ${blocking.map((w) => w.message).join('; ')}. A pharmacist may override with a reason (safetyOverrideReason).`, {
      reason: SupplyReason.SAFETY_OVERRIDE_REQUIRED,
    });
  }
  if (blocking.length > 0 && !args.actor.isPharmacist) throw new ForbiddenError('Only a pharmacist may override a contraindication');
  if (args.warnings.length === 0) return;
  const now = new Date();
  await tx.safetyAlert.createMany({
    data: args.warnings.map((w) => ({
      prescriptionId: null,
      patientId: args.patientId,
      kind: w.kind,
      severity: w.severity,
      message: w.message,
      productIds: w.productIds,
      source: w.source,
      raisedBy: args.actor.userId,
      ...(w.severity === 'CONTRAINDICATED' ? { overriddenBy: args.actor.userId, overriddenAt: now, overrideReason: args.overrideReason } : {}),
    })),
  });
  if (blocking.length === 0) return;
  await recordAudit(tx, {
    ...args.audit,
    action: 'OVERRIDE_SAFETY_ALERT',
    entityType: 'Sale',
    entityId: args.saleId,
    branchId: args.branchId,
    newValues: { reason: args.overrideReason, alerts: blocking.map((w) => w.message) },
  });
  await tx.complianceEvent.create({
    data: {
      branchId: args.branchId,
      eventType: 'SAFETY_OVERRIDE',
      severity: 'high',
      description: `Contraindicated warning overridden on sale ${args.saleId}`,
      data: { saleId: args.saleId, patientId: args.patientId, reason: args.overrideReason, alerts: blocking.map((w) => w.message) },
      reportedBy: args.actor.userId,
    },
  });
}
