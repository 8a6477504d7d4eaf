import { z } from 'zod';
import { BadUserInputError, parseInput, type FieldCipher } from '@umi/kit';
import { recordAudit, type TenantDb } from '@umi/db';
import type { MobileMoneySetting } from '@umi/db/tenant-models';
import { requireTenant } from '@umi/subgraph';
import { auditOf } from '../../policy';
import type { PosContext } from '../../context';
import type { ProviderConfig } from './providers';

/** What the API shows of a provider's configuration: never a secret. */
export interface SettingsView {
  provider: 'MTN' | 'AIRTEL';
  baseUrl: string;
  environment: string;
  callbackBaseUrl: string | null;
  enabled: boolean;
  hasCredentials: boolean;
  hasCallbackSecret: boolean;
  updatedAt: Date;
}

/** The ciphertext is bound to the tenant and the provider: copied to another row or tenant, it no longer decrypts. */
export const settingsContext = (provider: string) => `mobile-money:${provider}`;
const context = settingsContext;

const url = z
  .string()
  .trim()
  .max(500)
  .refine((v) => /^https?:\/\/[^\s/]+/.test(v), 'must be an http(s) URL');
const secret = z.string().trim().min(1).max(500);
const inputSchema = z
  .object({
    provider: z.enum(['MTN', 'AIRTEL']),
    baseUrl: url,
    environment: z.string().trim().min(1).max(100),
    apiUser: secret.nullish(),
    apiKey: secret.nullish(),
    subscriptionKey: secret.nullish(),
    clientId: secret.nullish(),
    clientSecret: secret.nullish(),
    callbackSecret: z.string().trim().min(16, 'must be at least 16 characters').max(200).regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits and . _ ~ - only (it goes in a URL)'),
    callbackBaseUrl: url.nullish(),
    enabled: z.boolean().nullish(),
  })
  .superRefine((v, ctx) => {
    const need = v.provider === 'MTN' ? (['apiUser', 'apiKey', 'subscriptionKey'] as const) : (['clientId', 'clientSecret'] as const);
    for (const k of need) if (!v[k]) ctx.addIssue({ code: 'custom', path: [k], message: `is required for ${v.provider}` });
  });

function view(row: MobileMoneySetting): SettingsView {
  return {
    provider: row.provider as 'MTN' | 'AIRTEL',
    baseUrl: row.baseUrl,
    environment: row.environment,
    callbackBaseUrl: row.callbackBaseUrl,
    enabled: row.isEnabled,
    hasCredentials: true,
    hasCallbackSecret: true,
    updatedAt: row.updatedAt,
  };
}

function requireCipher(ctx: PosContext): FieldCipher {
  if (!ctx.deps.cipher) throw new BadUserInputError('Mobile-money credentials cannot be stored: the platform has no encryption keys (PATIENT_DATA_KEYS)');
  return ctx.deps.cipher;
}

/** Sets a provider's credentials (ADMIN, audited without secrets); the secrets are encrypted before they leave the process. */
export async function configureMobileMoney(ctx: PosContext, input: unknown): Promise<SettingsView> {
  const { db, tenant } = requireTenant(ctx);
  const data = parseInput(inputSchema, input);
  const secrets =
    data.provider === 'MTN'
      ? { apiUser: data.apiUser!, apiKey: data.apiKey!, subscriptionKey: data.subscriptionKey!, callbackSecret: data.callbackSecret }
      : { clientId: data.clientId!, clientSecret: data.clientSecret!, callbackSecret: data.callbackSecret };
  const { ciphertext, keyVersion } = requireCipher(ctx).encrypt(tenant.id, context(data.provider), JSON.stringify(secrets));
  return db.transaction(async (tx) => {
    const before = await tx.mobileMoneySetting.findUnique({ where: { provider: data.provider } });
    const fields = {
      baseUrl: data.baseUrl,
      environment: data.environment,
      callbackBaseUrl: data.callbackBaseUrl ?? null,
      credentialsCiphertext: ciphertext,
      credentialsKeyVersion: keyVersion,
      isEnabled: data.enabled ?? true,
      updatedBy: requireTenant(ctx).principal.userId,
    };
    const row = await tx.mobileMoneySetting.upsert({ where: { provider: data.provider }, create: { provider: data.provider, ...fields }, update: fields });
    const shown = (r: MobileMoneySetting | null) => (r ? { baseUrl: r.baseUrl, environment: r.environment, callbackBaseUrl: r.callbackBaseUrl, enabled: r.isEnabled, credentials: '[encrypted]' } : null);
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'MOBILE_MONEY_CONFIGURED',
      entityType: 'MobileMoneySetting',
      entityId: data.provider,
      oldValues: shown(before),
      newValues: shown(row),
    });
    return view(row);
  });
}

export async function listMobileMoneySettings(ctx: PosContext): Promise<SettingsView[]> {
  const rows = await requireTenant(ctx).db.mobileMoneySetting.findMany({ orderBy: { provider: 'asc' } });
  return rows.map(view);
}

/** A provider's configuration with its secrets decrypted, for a call; null when not configured. */
export async function loadProviderConfig(db: TenantDb, cipher: FieldCipher | null, tenantId: string, provider: string): Promise<(ProviderConfig & { enabled: boolean }) | null> {
  const row = await db.mobileMoneySetting.findUnique({ where: { provider } });
  if (!row || !cipher) return null;
  const secrets = JSON.parse(cipher.decrypt(tenantId, context(provider), row.credentialsCiphertext, row.credentialsKeyVersion)) as ProviderConfig['secrets'];
  return { provider: provider as 'MTN' | 'AIRTEL', baseUrl: row.baseUrl, environment: row.environment, callbackBaseUrl: row.callbackBaseUrl, secrets, enabled: row.isEnabled };
}
