import { z } from 'zod';
import { addDays, afterTimeCursor, BadUserInputError, ConflictError, NotFoundError, pageSizeSchema, parseInput, timeCursor, toConnection, uuidSchema } from '@umi/kit';
import { recordAudit, type TenantTx } from '@umi/db';
import type { Prescription, TenantPrisma } from '@umi/db/tenant-models';
import { lockRow, nextNumber } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { auditOf, branchDate, requireBranch, type BranchNeed } from '../policy';
import type { PharmacyContext } from '../context';
import { recordAlerts, runSafetyCheck } from '@umi/supply';

const createSchema = z.object({
  branchId: uuidSchema,
  patientId: uuidSchema,
  prescriberName: z.string().trim().min(1, 'is required').max(200),
  prescriberLicense: z.string().trim().max(100).nullish(),
  datePrescribed: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
  diagnosis: z.string().trim().max(2000).nullish(),
  notes: z.string().trim().max(2000).nullish(),
  items: z
    .array(
      z.object({
        productId: uuidSchema,
        quantity: z.number().int('must be a whole number').min(1, 'must be above zero').max(100_000),
        dosage: z.string().trim().min(1, 'is required').max(500),
        instructions: z.string().trim().max(1000).nullish(),
        courseDays: z.number().int().min(1).max(3650).nullish(),
      }),
    )
    .min(1, 'must have at least one item')
    .max(50),
});

/**
 * The tenant's prescription validity in days: 90 unless the tenant says otherwise, and for a
 * prescription listing a controlled substance its own, shorter validity (30 unless changed).
 */
async function validityDays(tx: TenantTx, controlled: boolean): Promise<number> {
  const [key, fallback] = controlled ? ['controlled_prescription_validity_days', 30] : ['prescription_validity_days', 90];
  const row = await tx.tenantSetting.findUnique({ where: { key } });
  const days = Number(row?.value ?? fallback);
  return Number.isInteger(days) && days > 0 ? days : fallback;
}

/** Locks the prescription row for the rest of the transaction and returns it fresh. */
export async function lockPrescription(tx: TenantTx, id: string): Promise<Prescription> {
  await lockRow(tx, 'prescriptions', id);
  const p = await tx.prescription.findUnique({ where: { id } });
  if (!p) throw new NotFoundError('Prescription', { field: 'id' });
  return p;
}

/** Enters a prescription and runs the safety check; its warnings are kept and returned with it. */
export async function createPrescription(ctx: PharmacyContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(createSchema, input);
  const branch = await requireBranch(ctx, data.branchId, 'prescribe', 'input.branchId');
  const today = branchDate(branch);
  if (data.datePrescribed > today) throw new BadUserInputError('input.datePrescribed: must not be in the future', { field: 'input.datePrescribed' });
  return db.transaction(async (tx) => {
    const patient = await tx.patient.findFirst({ where: { id: data.patientId, deletedAt: null } });
    if (!patient) throw new NotFoundError('Patient', { field: 'input.patientId' });
    if (patient.status !== 'ACTIVE') throw new BadUserInputError(`input.patientId: the patient is ${patient.status.toLowerCase()}`, { field: 'input.patientId' });
    const products = await tx.product.findMany({ where: { id: { in: data.items.map((i) => i.productId.toLowerCase()) }, deletedAt: null } });
    const byId = new Map(products.map((p) => [p.id, p]));
    data.items.forEach((item, i) => {
      const p = byId.get(item.productId.toLowerCase());
      if (!p) throw new NotFoundError('Product', { field: `input.items[${i}].productId` });
      if (!p.isActive) throw new BadUserInputError(`input.items[${i}].productId: ${p.name} is inactive`, { field: `input.items[${i}].productId` });
    });
    // A controlled prescription is valid for its own period and never repeats: its items' quantities
    // are all it ever supplies (partial fills allowed, Controlled Substances Act s.21).
    const validUntil = addDays(data.datePrescribed, await validityDays(tx, products.some((p) => p.controlledSubstance)));
    if (validUntil < today) throw new BadUserInputError(`input.datePrescribed: the prescription expired on ${validUntil}`, { field: 'input.datePrescribed' });
    const number = await nextNumber(tx, `rx:${branch.code}`);
    const prescription = await tx.prescription.create({
      data: {
        prescriptionNumber: `RX-${branch.code}-${String(number).padStart(6, '0')}`,
        branchId: branch.id,
        patientId: patient.id,
        prescriberName: data.prescriberName,
        prescriberLicense: data.prescriberLicense ?? null,
        datePrescribed: new Date(`${data.datePrescribed}T00:00:00Z`),
        validUntil: new Date(`${validUntil}T00:00:00Z`),
        diagnosis: data.diagnosis ?? null,
        notes: data.notes ?? null,
        createdBy: principal.userId,
        items: {
          create: data.items.map((i, n) => ({
            lineNo: n + 1,
            productId: i.productId.toLowerCase(),
            quantity: i.quantity,
            dosage: i.dosage,
            instructions: i.instructions ?? null,
            courseDays: i.courseDays ?? null,
          })),
        },
      },
    });
    const warnings = await runSafetyCheck(tx, {
      items: data.items.map((i) => byId.get(i.productId.toLowerCase())!),
      patient,
      excludePrescriptionId: prescription.id,
      prescriber: { name: data.prescriberName, license: data.prescriberLicense ?? null },
      today,
    });
    await recordAlerts(tx, warnings, { prescriptionId: prescription.id, patientId: patient.id, raisedBy: principal.userId });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'CREATE',
      entityType: 'Prescription',
      entityId: prescription.id,
      branchId: branch.id,
      newValues: { ...prescription, items: data.items, warnings: warnings.length },
    });
    return prescription;
  });
}

/** Moves a prescription from one of `from` to the state `change` says, under its row lock, audited as `action`. */
async function transition(
  ctx: PharmacyContext,
  id: string,
  need: BranchNeed,
  from: string[],
  change: TenantPrisma.PrescriptionUpdateInput,
  action: string,
  extra?: Record<string, unknown>,
) {
  const { db } = requireTenant(ctx);
  const prescriptionId = parseInput(uuidSchema, id, 'id');
  const found = await ctx.loaders.prescriptionById.load(prescriptionId);
  if (!found) throw new NotFoundError('Prescription', { field: 'id' });
  await requireBranch(ctx, found.branchId, need, 'id');
  return db.transaction(async (tx) => {
    const p = await lockPrescription(tx, prescriptionId);
    if (!from.includes(p.status)) throw new ConflictError(`The prescription is ${p.status}`);
    const updated = await tx.prescription.update({ where: { id: p.id }, data: change });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action,
      entityType: 'Prescription',
      entityId: p.id,
      branchId: p.branchId,
      oldValues: { status: p.status },
      newValues: { status: updated.status, ...extra },
    });
    return updated;
  });
}

/** A pharmacist's verification: the prescription may then be sold against at the till. */
export function verifyPrescription(ctx: PharmacyContext, id: string) {
  const { principal } = requireTenant(ctx);
  return transition(ctx, id, 'dispense', ['PENDING'], { status: 'VERIFIED', verifiedBy: principal.userId, verifiedAt: new Date() }, 'VERIFY');
}

export function cancelPrescription(ctx: PharmacyContext, id: string, reason: string) {
  const why = parseInput(z.string().trim().min(3, 'is required (at least 3 characters)').max(500), reason, 'reason');
  return transition(ctx, id, 'prescribe', ['PENDING', 'VERIFIED'], { status: 'CANCELLED', notes: why }, 'CANCEL', { reason: why });
}

const listSchema = z.object({
  branchId: uuidSchema,
  status: z.enum(['PENDING', 'VERIFIED', 'PARTIALLY_DISPENSED', 'DISPENSED', 'CANCELLED']).nullish(),
  first: pageSizeSchema,
  after: z.string().max(500).nullish(),
});

/** A branch's prescriptions, newest first, keyset-paginated on (createdAt, id). */
export async function listPrescriptions(ctx: PharmacyContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(listSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'view');
  const rows = await db.prescription.findMany({
    where: { branchId: branch.id, ...(args.status ? { status: args.status } : {}), ...afterTimeCursor(args.after) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: args.first + 1,
  });
  for (const p of rows.slice(0, args.first)) ctx.loaders.prescriptionById.prime(p.id, p);
  return toConnection(rows, args.first, timeCursor);
}

const checkSchema = z.object({ productIds: z.array(uuidSchema).min(1, 'must name at least one product').max(50), patientId: uuidSchema.nullish() });

/** The safety check on demand; what it shows is recorded like any other alert. */
export async function checkInteractions(ctx: PharmacyContext, rawArgs: unknown) {
  const { db, principal } = requireTenant(ctx);
  const args = parseInput(checkSchema, rawArgs, 'args');
  return db.transaction(async (tx) => {
    const products = await tx.product.findMany({ where: { id: { in: args.productIds.map((id) => id.toLowerCase()) }, deletedAt: null } });
    const byId = new Map(products.map((p) => [p.id, p]));
    args.productIds.forEach((id, i) => {
      if (!byId.has(id.toLowerCase())) throw new NotFoundError('Product', { field: `productIds[${i}]` });
    });
    const patient = args.patientId ? await tx.patient.findFirst({ where: { id: args.patientId, deletedAt: null } }) : null;
    if (args.patientId && !patient) throw new NotFoundError('Patient', { field: 'patientId' });
    const today = new Date().toISOString().slice(0, 10);
    const warnings = await runSafetyCheck(tx, {
      items: args.productIds.map((id) => byId.get(id.toLowerCase())!),
      patient,
      excludePrescriptionId: null,
      prescriber: null,
      today,
    });
    await recordAlerts(tx, warnings, { prescriptionId: null, patientId: patient?.id ?? null, raisedBy: principal.userId });
    return warnings;
  });
}
