import { z } from 'zod';
import { sql, tables, type SqlRunner } from '@umi/db';
import type { TaxCategory } from '@umi/supply';
import { DEFAULT_VAT_CATEGORIES, VAT_CATEGORY_CODES } from './codes';

/** tenant_settings keys of the fiscal configuration. */
export const FISCAL_KEYS = {
  tpin: 'fiscal_tpin',
  vatCategories: 'fiscal_vat_categories',
  backlogAlertSeconds: 'fiscal_backlog_alert_seconds',
} as const;

export const DEFAULT_BACKLOG_ALERT_SECONDS = 1800;

export interface FiscalSettings {
  /** The taxpayer's 10-digit TPIN; null until configured (nothing is sent without it). */
  tpin: string | null;
  vatCategories: Record<TaxCategory, string>;
  backlogAlertSeconds: number;
  /** When the VAT mapping last changed: items registered before are registered again. */
  updatedAt: Date;
}

export const vatMappingSchema = z
  .object({
    STANDARD: z.enum(VAT_CATEGORY_CODES as [string, ...string[]]),
    ZERO_RATED: z.enum(VAT_CATEGORY_CODES as [string, ...string[]]),
    EXEMPT: z.enum(VAT_CATEGORY_CODES as [string, ...string[]]),
  })
  .partial();

/** The tenant's fiscal settings, defaults for the ones never set. */
export async function readFiscalSettings(db: SqlRunner): Promise<FiscalSettings> {
  const rows = await db.query<{ key: string; value: unknown; updated_at: Date }>(
    sql`SELECT key, value, updated_at FROM ${tables.tenant_settings} WHERE key = ANY(${Object.values(FISCAL_KEYS)}::text[])`,
  );
  const by = new Map(rows.map((r) => [r.key, r]));
  const mapping = vatMappingSchema.safeParse(by.get(FISCAL_KEYS.vatCategories)?.value ?? {});
  const tpin = by.get(FISCAL_KEYS.tpin)?.value;
  const seconds = Number(by.get(FISCAL_KEYS.backlogAlertSeconds)?.value ?? DEFAULT_BACKLOG_ALERT_SECONDS);
  return {
    tpin: typeof tpin === 'string' && tpin ? tpin : null,
    vatCategories: { ...DEFAULT_VAT_CATEGORIES, ...(mapping.success ? mapping.data : {}) } as Record<TaxCategory, string>,
    backlogAlertSeconds: Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_BACKLOG_ALERT_SECONDS,
    updatedAt: by.get(FISCAL_KEYS.vatCategories)?.updated_at ?? new Date(0),
  };
}
