import { z } from 'zod';
import { parseInput, type Principal, type RequestBase } from '@umi/kit';
import { recordAudit, type TenantRecord } from '@umi/db';
import type { TenantDeps } from '../deps';

/** The tenant's switches the other subgraphs read from its schema (tenant_settings). */
export interface TenantSettings {
  pricesIncludeTax: boolean;
  prescriptionValidityDays: number;
  controlledRegisterRetentionYears: number;
}

const KEYS = {
  pricesIncludeTax: 'prices_include_tax',
  prescriptionValidityDays: 'prescription_validity_days',
  controlledRegisterRetentionYears: 'controlled_register_retention_years',
} as const;

const DEFAULTS: TenantSettings = { pricesIncludeTax: true, prescriptionValidityDays: 90, controlledRegisterRetentionYears: 5 };

const inputSchema = z
  .object({
    pricesIncludeTax: z.boolean().nullish(),
    prescriptionValidityDays: z.number().int().min(1).max(3650).nullish(),
    // DOMAIN.md: at least five years until the statute is confirmed.
    controlledRegisterRetentionYears: z.number().int().min(5, 'must be at least 5').max(100).nullish(),
  })
  .strict();

export async function readSettings(deps: TenantDeps, tenant: TenantRecord): Promise<TenantSettings> {
  const rows = await deps.tenants.get(tenant.schemaName).tenantSetting.findMany({ where: { key: { in: Object.values(KEYS) } } });
  const byKey = new Map(rows.map((r) => [r.key, r.value]));
  return {
    pricesIncludeTax: (byKey.get(KEYS.pricesIncludeTax) as boolean | undefined) ?? DEFAULTS.pricesIncludeTax,
    prescriptionValidityDays: Number(byKey.get(KEYS.prescriptionValidityDays) ?? DEFAULTS.prescriptionValidityDays),
    controlledRegisterRetentionYears: Number(byKey.get(KEYS.controlledRegisterRetentionYears) ?? DEFAULTS.controlledRegisterRetentionYears),
  };
}

/**
 * Changes the tenant's settings (ADMIN), e.g. tax-exclusive shelf prices. Sales record the setting
 * they were made under, so switching never rewrites history.
 */
export async function updateSettings(deps: TenantDeps, req: RequestBase & { principal: Principal }, tenant: TenantRecord, input: unknown): Promise<TenantSettings> {
  const data = parseInput(inputSchema, input);
  const db = deps.tenants.get(tenant.schemaName);
  const before = await readSettings(deps, tenant);
  await db.$transaction(async (tx) => {
    for (const [field, key] of Object.entries(KEYS) as [keyof TenantSettings, string][]) {
      const value = data[field];
      if (value === undefined || value === null) continue;
      await tx.tenantSetting.upsert({ where: { key }, create: { key, value, updatedBy: req.principal.userId }, update: { value, updatedBy: req.principal.userId } });
    }
    await recordAudit(tx, tenant.schemaName, {
      userId: req.principal.userId,
      action: 'UPDATE',
      entityType: 'TenantSettings',
      entityId: tenant.id,
      oldValues: before,
      newValues: data,
      ipAddress: req.ip,
      userAgent: req.userAgent,
      correlationId: req.requestId,
    });
  });
  return readSettings(deps, tenant);
}
