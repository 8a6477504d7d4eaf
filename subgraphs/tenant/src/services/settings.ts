import { z } from 'zod';
import { parseInput } from '@umi/kit';
import { recordAudit, type TenantDb } from '@umi/db';
import { requireTenant } from '@umi/subgraph';
import type { TenantContext } from '../context';
import { auditOf } from '../policy';

/** The tenant's switches the other subgraphs read from its schema (tenant_settings). */
export interface TenantSettings {
  pricesIncludeTax: boolean;
  prescriptionValidityDays: number;
  /** Days a prescription listing a controlled substance may be filled after it was written. */
  controlledPrescriptionValidityDays: number;
  controlledRegisterRetentionYears: number;
  /** What a new product is taxed as when its creator names no category. */
  defaultTaxCategory: TaxCategory;
  /** Days audit entries stay in the live audit log before the retention job archives them. */
  auditLogRetentionDays: number;
  /** Years without activity after which the retention job anonymises a patient. */
  patientInactivityRetentionYears: number;
}

/**
 * Floors of the retention settings. Ninety days keeps a quarter's trail live for the quarterly
 * returns and any inquiry into them; two years of inactivity covers a patient on a yearly repeat
 * who misses one review. Neither is set by DOMAIN.md (verify with counsel); the database's
 * archiving guard (tenant migration 0012) applies the same 90 days, and the patient job the same 2
 * years, whatever is stored.
 */
export const AUDIT_LOG_RETENTION_MIN_DAYS = 90;
export const PATIENT_INACTIVITY_MIN_YEARS = 2;
export const AUDIT_LOG_RETENTION_DEFAULT_DAYS = 365;
export const PATIENT_INACTIVITY_DEFAULT_YEARS = 7;

const taxCategorySchema = z.enum(['STANDARD', 'ZERO_RATED', 'EXEMPT']);
type TaxCategory = z.infer<typeof taxCategorySchema>;

const KEYS = {
  pricesIncludeTax: 'prices_include_tax',
  prescriptionValidityDays: 'prescription_validity_days',
  controlledPrescriptionValidityDays: 'controlled_prescription_validity_days',
  controlledRegisterRetentionYears: 'controlled_register_retention_years',
  defaultTaxCategory: 'default_tax_category',
  auditLogRetentionDays: 'audit_log_retention_days',
  patientInactivityRetentionYears: 'patient_inactivity_retention_years',
} as const;

const DEFAULTS: TenantSettings = { pricesIncludeTax: true, prescriptionValidityDays: 90, controlledPrescriptionValidityDays: 30, controlledRegisterRetentionYears: 5, defaultTaxCategory: 'STANDARD', auditLogRetentionDays: AUDIT_LOG_RETENTION_DEFAULT_DAYS, patientInactivityRetentionYears: PATIENT_INACTIVITY_DEFAULT_YEARS };

const inputSchema = z
  .object({
    pricesIncludeTax: z.boolean().nullish(),
    prescriptionValidityDays: z.number().int().min(1).max(3650).nullish(),
    controlledPrescriptionValidityDays: z.number().int().min(1).max(3650).nullish(),
    // DOMAIN.md: at least five years until the statute is confirmed.
    controlledRegisterRetentionYears: z.number().int().min(5, 'must be at least 5').max(100).nullish(),
    defaultTaxCategory: taxCategorySchema.nullish(),
    auditLogRetentionDays: z.number().int().min(AUDIT_LOG_RETENTION_MIN_DAYS, `must be at least ${AUDIT_LOG_RETENTION_MIN_DAYS}`).max(36_500).nullish(),
    patientInactivityRetentionYears: z.number().int().min(PATIENT_INACTIVITY_MIN_YEARS, `must be at least ${PATIENT_INACTIVITY_MIN_YEARS}`).max(100).nullish(),
  })
  .strict();

/** The settings as stored, defaults for the ones never set (in or out of a transaction). */
async function settingsIn(db: Pick<TenantDb, 'tenantSetting'>): Promise<TenantSettings> {
  const rows = await db.tenantSetting.findMany({ where: { key: { in: Object.values(KEYS) } } });
  const byKey = new Map(rows.map((r) => [r.key, r.value]));
  return {
    pricesIncludeTax: (byKey.get(KEYS.pricesIncludeTax) as boolean | undefined) ?? DEFAULTS.pricesIncludeTax,
    prescriptionValidityDays: Number(byKey.get(KEYS.prescriptionValidityDays) ?? DEFAULTS.prescriptionValidityDays),
    controlledPrescriptionValidityDays: Number(byKey.get(KEYS.controlledPrescriptionValidityDays) ?? DEFAULTS.controlledPrescriptionValidityDays),
    controlledRegisterRetentionYears: Number(byKey.get(KEYS.controlledRegisterRetentionYears) ?? DEFAULTS.controlledRegisterRetentionYears),
    defaultTaxCategory: taxCategorySchema.parse(byKey.get(KEYS.defaultTaxCategory) ?? DEFAULTS.defaultTaxCategory),
    auditLogRetentionDays: Number(byKey.get(KEYS.auditLogRetentionDays) ?? DEFAULTS.auditLogRetentionDays),
    patientInactivityRetentionYears: Number(byKey.get(KEYS.patientInactivityRetentionYears) ?? DEFAULTS.patientInactivityRetentionYears),
  };
}

/** The caller's tenant's settings. */
export function readSettings(ctx: TenantContext): Promise<TenantSettings> {
  return settingsIn(requireTenant(ctx).db);
}

/**
 * Changes the tenant's settings (ADMIN), e.g. tax-exclusive shelf prices. Sales record the setting
 * they were made under, so switching never rewrites history.
 */
export async function updateSettings(ctx: TenantContext, input: unknown): Promise<TenantSettings> {
  const { tenant, db, principal } = requireTenant(ctx);
  const data = parseInput(inputSchema, input);
  return db.transaction(async (tx) => {
    const before = await settingsIn(tx);
    for (const [field, key] of Object.entries(KEYS) as [keyof TenantSettings, string][]) {
      const value = data[field];
      if (value === undefined || value === null) continue;
      await tx.tenantSetting.upsert({ where: { key }, create: { key, value, updatedBy: principal.userId }, update: { value, updatedBy: principal.userId } });
    }
    await recordAudit(tx, { ...auditOf(ctx), action: 'UPDATE', entityType: 'TenantSettings', entityId: tenant.id, oldValues: before, newValues: data });
    return settingsIn(tx);
  });
}
