import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ForbiddenError, TooManyRequestsError, UnauthenticatedError, permissionsSchema, type Principal } from '@umi/kit';
import { recordAudit, type SharedDb, type SharedScopedTx, type TenantRecord } from '@umi/db';
import type { TenantContext } from '../context';
import { verifyPassword } from './passwords';
import { emailSchema } from './validation';

export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  /** Who just signed in; the payload's `user` resolves as this principal. */
  principal: Principal;
}

const INVALID_CREDENTIALS = 'Invalid email or password';

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The shared schema across every tenant. Sign-in happens before the caller has a scope of its own:
 * platform login, and refresh tokens, which are looked up by their hash (the token is the credential).
 */
const platform = (ctx: TenantContext): SharedDb => ctx.deps.data.shared({ kind: 'platform' }, null);

/** The shared schema as `tenant` sees it, with tagged SQL bound to its schema (its audit rows). */
const tenantShared = (ctx: TenantContext, tenant: TenantRecord): SharedDb => ctx.deps.data.shared({ kind: 'tenant', tenantId: tenant.id }, tenant);

/** The principal of `userId` as the database says now (role, branches and permissions). */
async function loadPrincipal(tx: SharedScopedTx, userId: string): Promise<Principal | null> {
  const user = await tx.user.findFirst({
    where: { id: userId, isActive: true, deletedAt: null },
    include: { tenant: { select: { subdomain: true, status: true, deletedAt: true } }, branches: { select: { branchId: true } } },
  });
  if (!user) return null;
  if (user.tenant && (user.tenant.status !== 'active' || user.tenant.deletedAt)) return null;
  return {
    userId: user.id,
    email: user.email,
    role: user.role as Principal['role'],
    tenantId: user.tenantId,
    tenantSubdomain: user.tenant?.subdomain ?? null,
    branchIds: user.branches.map((b) => b.branchId).sort(),
    permissions: permissionsSchema.parse(user.permissions ?? {}),
  };
}

async function issueTokens(ctx: TenantContext, tx: SharedScopedTx, principal: Principal, familyId: string): Promise<{ accessToken: string; refreshToken: string; id: string }> {
  const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
  const row = await tx.refreshToken.create({
    data: {
      tenantId: principal.tenantId,
      userId: principal.userId,
      familyId,
      tokenHash: hashToken(refreshToken),
      expiresAt: new Date(Date.now() + ctx.deps.env.REFRESH_TOKEN_TTL_SECONDS * 1000),
      ipAddress: ctx.ip,
      userAgent: ctx.userAgent,
    },
    select: { id: true },
  });
  return { accessToken: await ctx.deps.accessTokens.sign(principal), refreshToken, id: row.id };
}

/** Takes one attempt from both login buckets before any password is hashed. */
async function limitAttempt(ctx: TenantContext, tenantKey: string, email: string): Promise<void> {
  const ipKey = ctx.ip ?? 'unknown';
  const [perAccount, perIp] = await Promise.all([ctx.deps.loginPerAccount.take(`${tenantKey}:${email}:${ipKey}`), ctx.deps.loginPerIp.take(ipKey)]);
  const refused = [perAccount, perIp].filter((r) => !r.allowed);
  if (refused.length > 0) {
    ctx.deps.metrics.rateLimited.inc({ limit: 'login' });
    throw new TooManyRequestsError(Math.ceil(Math.max(...refused.map((r) => r.retryAfterMs)) / 1000));
  }
}

/**
 * Signs a user in. The tenant is named by `args.tenant`, else by the request's X-Tenant-ID or host
 * (the gateway's hint); with neither it is the platform operator's login. Every call, successful
 * or not, spends one attempt from the per-account and per-IP buckets before the password is
 * checked, so aliased logins in one request each count.
 */
export async function login(ctx: TenantContext, args: { email: string; password: string; tenant?: string | null }): Promise<AuthResult> {
  const { directory, metrics } = ctx.deps;
  const email = emailSchema.safeParse(args.email);
  const tenantKey = args.tenant?.trim() || ctx.tenantHint;
  if (args.tenant && ctx.tenantHint && args.tenant.trim().toLowerCase() !== ctx.tenantHint.toLowerCase()) {
    const a = await directory.resolve(args.tenant.trim());
    const b = await directory.resolve(ctx.tenantHint);
    if (!a || !b || a.id !== b.id) throw new ForbiddenError('The tenant argument and the request tenant differ');
  }
  // The account is the tenant itself (however it is named: `Demo`, `demo` or its id) and the
  // normalised email: keyed on the raw strings, each spelling would get its own attempts.
  const tenant: TenantRecord | null = tenantKey ? await directory.resolve(tenantKey) : null;
  const accountTenant = tenantKey ? (tenant?.id ?? `unknown:${tenantKey.toLowerCase()}`) : 'platform';
  await limitAttempt(ctx, accountTenant, email.success ? email.data : args.email.trim().toLowerCase());

  if (tenantKey) {
    if (!tenant || tenant.status !== 'active') {
      await verifyPassword(null, args.password);
      metrics.authFailures.inc({ reason: 'unknown_tenant' });
      throw new UnauthenticatedError(INVALID_CREDENTIALS);
    }
  }
  const db = tenant ? tenantShared(ctx, tenant) : platform(ctx);
  const candidate = email.success
    ? await db.transaction((tx) =>
        tx.user.findFirst({
          where: { email: email.data, tenantId: tenant ? tenant.id : null, isActive: true, deletedAt: null },
          select: { id: true, passwordHash: true },
        }),
      )
    : null;
  const ok = await verifyPassword(candidate?.passwordHash ?? null, args.password);
  if (!candidate || !ok) {
    metrics.authFailures.inc({ reason: 'bad_credentials' });
    ctx.logger.info({ tenantId: tenant?.id }, 'login failed');
    throw new UnauthenticatedError(INVALID_CREDENTIALS);
  }

  const result = await db.transaction(async (tx) => {
    const principal = await loadPrincipal(tx, candidate.id);
    if (!principal) throw new UnauthenticatedError(INVALID_CREDENTIALS);
    await tx.user.update({ where: { id: principal.userId }, data: { lastLogin: new Date() } });
    const tokens = await issueTokens(ctx, tx, principal, randomUUID());
    if (tenant) {
      await recordAudit(tx, {
        userId: principal.userId,
        action: 'LOGIN',
        entityType: 'User',
        entityId: principal.userId,
        ipAddress: ctx.ip,
        userAgent: ctx.userAgent,
        correlationId: ctx.requestId,
      });
    }
    return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: ctx.deps.accessTokens.ttlSeconds, principal };
  });
  if (tenant) ctx.deps.users.invalidate(tenant.id, result.principal.userId);
  return result;
}

/**
 * Rotates a refresh token. Each token is single-use: the conditional update lets exactly one
 * caller rotate it; presenting it again (a thief, or the victim after a theft) revokes every
 * token of its family, ending the stolen session.
 */
export async function refresh(ctx: TenantContext, token: string): Promise<AuthResult> {
  const tokenHash = hashToken(token);
  const outcome = await platform(ctx).transaction(async (tx) => {
    const row = await tx.refreshToken.findUnique({ where: { tokenHash } });
    if (!row || row.revokedAt || row.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' as const };
    const claimed = await tx.refreshToken.updateMany({
      where: { id: row.id, rotatedAt: null, revokedAt: null },
      data: { rotatedAt: new Date() },
    });
    if (claimed.count === 0) {
      await tx.refreshToken.updateMany({
        where: { familyId: row.familyId, revokedAt: null },
        data: { revokedAt: new Date(), revokedReason: 'reuse' },
      });
      return { kind: 'reuse' as const, userId: row.userId };
    }
    const principal = await loadPrincipal(tx, row.userId);
    if (!principal) return { kind: 'invalid' as const };
    const next = await issueTokens(ctx, tx, principal, row.familyId);
    await tx.refreshToken.update({ where: { id: row.id }, data: { replacedById: next.id } });
    return { kind: 'ok' as const, result: { accessToken: next.accessToken, refreshToken: next.refreshToken, expiresIn: ctx.deps.accessTokens.ttlSeconds, principal } };
  });
  if (outcome.kind === 'ok') return outcome.result;
  ctx.deps.metrics.authFailures.inc({ reason: outcome.kind === 'reuse' ? 'refresh_reuse' : 'refresh_invalid' });
  if (outcome.kind === 'reuse') {
    ctx.logger.warn({ userId: outcome.userId }, 'refresh token reused; family revoked');
    throw new UnauthenticatedError('Refresh token already used; please sign in again');
  }
  throw new UnauthenticatedError('Invalid or expired refresh token');
}

/**
 * Revokes the session (token family) the refresh token belongs to. The token names its tenant, so
 * it is read first; the revocation and the tenant's audit row then commit together, in its scope.
 */
export async function logout(ctx: TenantContext, token: string): Promise<boolean> {
  const tokenHash = hashToken(token);
  const found = await platform(ctx).transaction((tx) =>
    tx.refreshToken.findUnique({ where: { tokenHash }, select: { familyId: true, userId: true, tenantId: true } }),
  );
  if (!found) return false;
  const tenant = found.tenantId ? await ctx.deps.directory.resolve(found.tenantId) : null;
  await (tenant ? tenantShared(ctx, tenant) : platform(ctx)).transaction(async (tx) => {
    await tx.refreshToken.updateMany({ where: { familyId: found.familyId, revokedAt: null }, data: { revokedAt: new Date(), revokedReason: 'logout' } });
    if (tenant) {
      await recordAudit(tx, {
        userId: found.userId,
        action: 'LOGOUT',
        entityType: 'User',
        entityId: found.userId,
        ipAddress: ctx.ip,
        userAgent: ctx.userAgent,
        correlationId: ctx.requestId,
      });
    }
  });
  return true;
}
