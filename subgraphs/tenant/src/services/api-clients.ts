import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError, NotFoundError, TooManyRequestsError, parseInput, permissionsSchema, uuidSchema, type Principal } from '@umi/kit';
import { recordAudit } from '@umi/db';
import type { ApiClient } from '@umi/db/shared-models';
import { requireTenant } from '@umi/subgraph';
import type { TenantContext } from '../context';
import { auditOf } from '../policy';
import { hashPassword, verifyPassword } from './passwords';

/** GraphQL's ApiScope values and the OAuth2 scope strings tokens carry. */
export const SCOPES = { CATALOGUE_READ: 'catalogue:read', STOCK_READ: 'stock:read', SALES_READ: 'sales:read', STOCK_RECEIVE: 'stock:receive' } as const;
export type ApiScopeName = keyof typeof SCOPES;
const SCOPE_NAMES = Object.fromEntries(Object.entries(SCOPES).map(([k, v]) => [v, k])) as Record<string, ApiScopeName>;

/** An API client as GraphQL shows it (scopes as enum values; never the secret's hash). */
export function toApiClient(row: ApiClient) {
  return {
    id: row.id,
    clientId: row.clientId,
    name: row.name,
    scopes: row.scopes.flatMap((s: string) => (SCOPE_NAMES[s] ? [SCOPE_NAMES[s]] : [])),
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

const createSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  scopes: z.array(z.enum(Object.keys(SCOPES) as [ApiScopeName, ...ApiScopeName[]])).min(1, 'must name at least one scope'),
});

/** The tenant's API clients, newest first. */
export async function listApiClients(ctx: TenantContext) {
  const { tenant } = requireTenant(ctx);
  const rows = await ctx.shared.transaction((tx) => tx.apiClient.findMany({ where: { tenantId: tenant.id }, orderBy: { createdAt: 'desc' } }));
  return rows.map(toApiClient);
}

/** Creates a client; the secret is returned this once, only its argon2 hash is stored. */
export async function createApiClient(ctx: TenantContext, input: unknown) {
  const { tenant, principal } = requireTenant(ctx);
  const data = parseInput(createSchema, input);
  const clientId = `umi_${randomBytes(12).toString('base64url')}`;
  const clientSecret = `ucs_${randomBytes(32).toString('base64url')}`;
  const secretHash = await hashPassword(clientSecret);
  const row = await ctx.shared.transaction(async (tx) => {
    const created = await tx.apiClient.create({
      data: { tenantId: tenant.id, clientId, secretHash, name: data.name, scopes: [...new Set(data.scopes.map((s) => SCOPES[s]))], createdBy: principal.userId },
    });
    await recordAudit(tx, { ...auditOf(ctx), action: 'CREATE', entityType: 'ApiClient', entityId: created.id, newValues: { clientId, name: created.name, scopes: created.scopes } });
    return created;
  });
  return { client: toApiClient(row), clientSecret };
}

/** Revokes a client: its tokens fail on their next request (every subgraph checks revoked_at). */
export async function revokeApiClient(ctx: TenantContext, id: string) {
  const { tenant, principal } = requireTenant(ctx);
  const clientRowId = parseInput(uuidSchema, id, 'id');
  const row = await ctx.shared.transaction(async (tx) => {
    const current = await tx.apiClient.findFirst({ where: { id: clientRowId, tenantId: tenant.id } });
    if (!current) throw new NotFoundError('API client', { field: 'id' });
    if (current.revokedAt) return current;
    const revoked = await tx.apiClient.update({ where: { id: current.id }, data: { revokedAt: new Date(), revokedBy: principal.userId } });
    await recordAudit(tx, { ...auditOf(ctx), action: 'REVOKE', entityType: 'ApiClient', entityId: current.id, oldValues: { revokedAt: null }, newValues: { revokedAt: revoked.revokedAt } });
    return revoked;
  });
  return toApiClient(row);
}

/**
 * OAuth2 client credentials: a short-lived access token for a live client of an active tenant. The
 * principal acts tenant-wide (OPERATIONS' reach) but the gateway lets it use only its scopes' fields.
 */
export async function issueClientToken(ctx: TenantContext, args: { clientId: string; clientSecret: string }) {
  const attempt = await ctx.deps.loginPerIp.take(ctx.ip ?? 'unknown');
  if (!attempt.allowed) throw new TooManyRequestsError(Math.ceil(attempt.retryAfterMs / 1000));
  const invalid = () => new AppError('UNAUTHENTICATED', 'Invalid client credentials', { reason: 'INVALID_CLIENT' });
  const platform = ctx.deps.data.shared({ kind: 'platform' }, null);
  const row = await platform.transaction((tx) =>
    tx.apiClient.findUnique({ where: { clientId: args.clientId.slice(0, 100) }, include: { tenant: { select: { id: true, subdomain: true, status: true, deletedAt: true } } } }),
  );
  const ok = await verifyPassword(row?.secretHash ?? null, args.clientSecret);
  if (!row || !ok || row.revokedAt || row.tenant.status !== 'active' || row.tenant.deletedAt) throw invalid();
  const principal: Principal = {
    userId: row.id,
    email: `client:${row.clientId}`,
    role: 'OPERATIONS',
    tenantId: row.tenantId,
    tenantSubdomain: row.tenant.subdomain,
    branchIds: [],
    permissions: permissionsSchema.parse({}),
    scopes: row.scopes,
  };
  const tenantDb = ctx.deps.data.shared({ kind: 'tenant', tenantId: row.tenantId }, await ctx.deps.directory.resolve(row.tenantId));
  await tenantDb.transaction(async (tx) => {
    await tx.apiClient.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
    await recordAudit(tx, { userId: row.id, ipAddress: ctx.ip, userAgent: ctx.userAgent, correlationId: ctx.requestId, action: 'TOKEN_ISSUED', entityType: 'ApiClient', entityId: row.id });
  });
  const ttl = ctx.deps.env.API_CLIENT_TOKEN_TTL_SECONDS;
  return { accessToken: await ctx.deps.accessTokens.sign(principal, ttl), tokenType: 'Bearer', expiresIn: ttl, scope: row.scopes.join(' ') };
}
