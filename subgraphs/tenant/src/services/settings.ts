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
}

const taxCategorySchema = z.enum(['STANDARD', 'ZERO_RATED', 'EXEMPT']);
type TaxCategory = z.infer<typeof taxCategorySchema>;

const KEYS = {
  pricesIncludeTax: 'prices_include_tax',
  prescriptionValidityDays: 'prescription_validity_days',
  controlledPrescriptionValidityDays: 'controlled_prescription_validity_days',
  controlledRegisterRetentionYears: 'controlled_register_retention_years',
  defaultTaxCategory: 'default_tax_category',
} as const;

const DEFAULTS: TenantSettings = { pricesIncludeTax: true, prescriptionValidityDays: 90, controlledPrescriptionValidityDays: 30, controlledRegisterRetentionYears: 5, defaultTaxCategory: 'STANDARD' };

const inputSchema = z
  .object({
    pricesIncludeTax: z.boolean().nullish(),
    prescriptionValidityDays: z.number().int().min(1).max(3650).nullish(),
    controlledPrescriptionValidityDays: z.number().int().min(1).max(3650).nullish(),
    // DOMAIN.md: at least five years until the statute is confirmed.
    controlledRegisterRetentionYears: z.number().int().min(5, 'must be at least 5').max(100).nullish(),
    defaultTaxCategory: taxCategorySchema.nullish(),
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
