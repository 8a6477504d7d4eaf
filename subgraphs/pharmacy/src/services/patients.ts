import { z } from 'zod';
import { BadUserInputError, ConflictError, decodeCursor, encodeCursor, escapeLike, ForbiddenError, NotFoundError, pageSizeSchema, parseInput, toConnection, uuidSchema } from '@umi/kit';
import { randomUUID } from 'node:crypto';
import { recordAudit } from '@umi/db';
import type { Patient, TenantPrisma } from '@umi/db/tenant-models';
import { nextNumber } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { auditOf, readsMedicalHistory, requireBranch } from '../policy';
import { historyContext } from '../jobs/reencrypt';
import type { PharmacyContext } from '../context';

const name = z.string().trim().min(1, 'is required').max(100);
const optional = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullish()
    .transform((v) => (v === undefined ? undefined : v ? v : null));
const dateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((d) => d >= '1880-01-01' && d <= new Date().toISOString().slice(0, 10), 'must be a past date');

const fields = {
  firstName: name,
  lastName: name,
  dateOfBirth: dateSchema.nullish(),
  gender: optional(30),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9 ()-]{6,20}$/, 'must be a phone number')
    .nullish(),
  email: z.string().trim().toLowerCase().email().max(255).nullish(),
  address: optional(500),
  // Allergies are matched case-insensitively against generic names and classes.
  allergies: z.array(z.string().trim().toLowerCase().min(1).max(100)).max(50).nullish(),
  medicalHistory: z.string().max(20_000).nullish(),
};
const createSchema = z.object({ ...fields, homeBranchId: uuidSchema.nullish() });
const updateSchema = z
  .object({ ...fields, status: z.enum(['ACTIVE', 'INACTIVE', 'DECEASED']).nullish() })
  .partial()
  .refine((v) => v.firstName !== null && v.lastName !== null, 'names cannot be cleared');

function encryptHistory(ctx: PharmacyContext, patientId: string, text: string | null | undefined) {
  if (text === undefined) return {};
  if (text === null || text.trim() === '') return { medicalHistoryCiphertext: null, medicalHistoryKeyVersion: null };
  const { ciphertext, keyVersion } = ctx.deps.cipher.encrypt(requireTenant(ctx).tenant.id, historyContext(patientId), text);
  return { medicalHistoryCiphertext: ciphertext, medicalHistoryKeyVersion: keyVersion };
}

/** Registers a patient with a readable number (P-000001); the medical history is encrypted before it leaves the process. */
export async function createPatient(ctx: PharmacyContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(createSchema, input);
  const homeBranchId = data.homeBranchId ?? principal.branchIds[0];
  if (!homeBranchId) throw new BadUserInputError('input.homeBranchId: required for users without a branch', { field: 'input.homeBranchId' });
  const branch = await requireBranch(ctx, homeBranchId, 'view', 'input.homeBranchId');
  const id = randomUUID();
  return db.transaction(async (tx) => {
    const number = await nextNumber(tx, 'patient');
    const patient = await tx.patient.create({
      data: {
        id,
        patientNumber: `P-${String(number).padStart(6, '0')}`,
        branchId: branch.id,
        firstName: data.firstName,
        lastName: data.lastName,
        dateOfBirth: data.dateOfBirth ? new Date(`${data.dateOfBirth}T00:00:00Z`) : null,
        gender: data.gender ?? null,
        phone: data.phone ?? null,
        email: data.email ?? null,
        address: data.address ?? null,
        allergies: [...new Set(data.allergies ?? [])],
        ...encryptHistory(ctx, id, data.medicalHistory),
      },
    });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'CREATE',
      entityType: 'Patient',
      entityId: id,
      branchId: branch.id,
      newValues: { ...patient, medicalHistoryCiphertext: undefined },
    });
    return patient;
  });
}

export async function updatePatient(ctx: PharmacyContext, id: string, input: unknown) {
  const { db } = requireTenant(ctx);
  const patientId = parseInput(uuidSchema, id, 'id');
  const data = parseInput(updateSchema, input);
  return db.transaction(async (tx) => {
    const before = await tx.patient.findFirst({ where: { id: patientId, deletedAt: null } });
    if (!before) throw new NotFoundError('Patient', { field: 'id' });
    // Anonymisation is final: filling the record again would make a person of a row whose history is gone.
    if (before.anonymisedAt) throw new ConflictError('The patient was anonymised; register them again', { reason: 'PATIENT_ANONYMISED', field: 'id' });
    const change: TenantPrisma.PatientUpdateInput = {
      ...(data.firstName ? { firstName: data.firstName } : {}),
      ...(data.lastName ? { lastName: data.lastName } : {}),
      ...(data.dateOfBirth !== undefined ? { dateOfBirth: data.dateOfBirth ? new Date(`${data.dateOfBirth}T00:00:00Z`) : null } : {}),
      ...(data.gender !== undefined ? { gender: data.gender } : {}),
      ...(data.phone !== undefined ? { phone: data.phone } : {}),
      ...(data.email !== undefined ? { email: data.email } : {}),
      ...(data.address !== undefined ? { address: data.address } : {}),
      ...(data.allergies !== undefined ? { allergies: [...new Set(data.allergies ?? [])] } : {}),
      ...(data.status ? { status: data.status } : {}),
      ...encryptHistory(ctx, patientId, data.medicalHistory),
    };
    const after = await tx.patient.update({ where: { id: patientId }, data: change });
    const redact = (p: Patient) => ({ ...p, medicalHistoryCiphertext: p.medicalHistoryCiphertext ? '[encrypted]' : null });
    await recordAudit(tx, { ...auditOf(ctx), action: 'UPDATE', entityType: 'Patient', entityId: patientId, oldValues: redact(before), newValues: redact(after) });
    return after;
  });
}

/**
 * The patient's medical history in clear, for PHARMACIST and ADMIN only; each read leaves an
 * audit row (who, which patient, when) before the text is returned.
 */
export async function readMedicalHistory(ctx: PharmacyContext, patient: Patient): Promise<string | null> {
  const { tenant, db, principal } = requireTenant(ctx);
  if (!readsMedicalHistory(principal)) throw new ForbiddenError('Medical history is restricted to pharmacists and administrators');
  if (!patient.medicalHistoryCiphertext || !patient.medicalHistoryKeyVersion) return null;
  await recordAudit(db, {
    ...auditOf(ctx),
    action: 'READ_SENSITIVE',
    entityType: 'Patient',
    entityId: patient.id,
    metadata: { field: 'medicalHistory' },
  });
  return ctx.deps.cipher.decrypt(tenant.id, historyContext(patient.id), patient.medicalHistoryCiphertext, patient.medicalHistoryKeyVersion);
}

const listSchema = z.object({ search: z.string().trim().max(100).nullish(), first: pageSizeSchema, after: z.string().max(500).nullish() });

/** Patients by family name; `search` is a patient-number, phone or name prefix. */
export async function listPatients(ctx: PharmacyContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(listSchema, rawArgs, 'args');
  const after = args.after ? (decodeCursor(args.after, ['string', 'string', 'uuid']) as [string, string, string]) : null;
  const and: TenantPrisma.PatientWhereInput[] = [{ deletedAt: null }];
  const s = args.search;
  if (s) {
    if (/^p-?\d+$/i.test(s)) and.push({ patientNumber: { startsWith: s.toUpperCase().replace(/^P-?/, 'P-') } });
    else if (/^\+?[0-9 ()-]{3,}$/.test(s)) and.push({ phone: { startsWith: s } });
    else {
      const prefix = { startsWith: escapeLike(s), mode: 'insensitive' as const };
      and.push({ OR: [{ lastName: prefix }, { firstName: prefix }] });
    }
  }
  if (after) {
    const [last, first, id] = after;
    and.push({ OR: [{ lastName: { gt: last } }, { lastName: last, firstName: { gt: first } }, { lastName: last, firstName: first, id: { gt: id } }] });
  }
  const rows = await db.patient.findMany({ where: { AND: and }, orderBy: [{ lastName: 'asc' }, { firstName: 'asc' }, { id: 'asc' }], take: args.first + 1 });
  for (const p of rows.slice(0, args.first)) ctx.loaders.patientById.prime(p.id, p);
  const cursor = (p: Patient) => encodeCursor([p.lastName, p.firstName, p.id]);
  return toConnection(rows, args.first, cursor);
}
