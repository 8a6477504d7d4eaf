import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  ForbiddenError,
  TooManyRequestsError,
  UnauthenticatedError,
  permissionsSchema,
  type Principal,
  type RequestBase,
} from '@umi/kit';
import { recordAudit, sharedTx, type Scope, type SharedTx, type TenantRecord } from '@umi/db';
import type { TenantDeps } from '../deps';
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

/** The principal of `userId` as the database says now (role, branches and permissions). */
async function loadPrincipal(tx: SharedTx, userId: string): Promise<Principal | null> {
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

async function issueTokens(
  deps: TenantDeps,
  tx: SharedTx,
  principal: Principal,
  req: RequestBase,
  familyId: string,
): Promise<{ accessToken: string; refreshToken: string; id: string }> {
  const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
  const row = await tx.refreshToken.create({
    data: {
      tenantId: principal.tenantId,
      userId: principal.userId,
      familyId,
      tokenHash: hashToken(refreshToken),
      expiresAt: new Date(Date.now() + deps.env.REFRESH_TOKEN_TTL_SECONDS * 1000),
      ipAddress: req.ip,
      userAgent: req.userAgent,
    },
    select: { id: true },
  });
  return { accessToken: await deps.accessTokens.sign(principal), refreshToken, id: row.id };
}

/** Takes one attempt from both login buckets before any password is hashed. */
async function limitAttempt(deps: TenantDeps, tenantKey: string, email: string, ip: string | null): Promise<void> {
  const ipKey = ip ?? 'unknown';
  const [perAccount, perIp] = await Promise.all([
    deps.loginPerAccount.take(`${tenantKey}:${email}:${ipKey}`),
    deps.loginPerIp.take(ipKey),
  ]);
  const refused = [perAccount, perIp].filter((r) => !r.allowed);
  if (refused.length > 0) {
    deps.metrics.rateLimited.inc({ limit: 'login' });
    throw new TooManyRequestsError(Math.ceil(Math.max(...refused.map((r) => r.retryAfterMs)) / 1000));
  }
}

/**
 * Signs a user in. The tenant is named by `tenantArg`, else by the request's X-Tenant-ID or host
 * (the gateway's hint); with neither it is the platform operator's login. Every call, successful
 * or not, spends one attempt from the per-account and per-IP buckets before the password is
 * checked, so aliased logins in one request each count.
 */
export async function login(
  deps: TenantDeps,
  req: RequestBase,
  args: { email: string; password: string; tenant?: string | null },
): Promise<AuthResult> {
  const email = emailSchema.safeParse(args.email);
  const tenantKey = args.tenant?.trim() || req.tenantHint;
  if (args.tenant && req.tenantHint && args.tenant.trim().toLowerCase() !== req.tenantHint.toLowerCase()) {
    const a = await deps.directory.resolve(args.tenant.trim());
    const b = await deps.directory.resolve(req.tenantHint);
    if (!a || !b || a.id !== b.id) throw new ForbiddenError('The tenant argument and the request tenant differ');
  }
  await limitAttempt(deps, tenantKey ?? 'platform', email.success ? email.data : args.email.toLowerCase(), req.ip);

  let tenant: TenantRecord | null = null;
  if (tenantKey) {
    tenant = await deps.directory.resolve(tenantKey);
    if (!tenant || tenant.status !== 'active') {
      await verifyPassword(null, args.password);
      deps.metrics.authFailures.inc({ reason: 'unknown_tenant' });
      throw new UnauthenticatedError(INVALID_CREDENTIALS);
    }
  }
  const scope: Scope = tenant ? { kind: 'tenant', tenantId: tenant.id } : { kind: 'platform' };
  const candidate = email.success
    ? await sharedTx(deps.shared, scope, (tx) =>
        tx.user.findFirst({
          where: { email: email.data, tenantId: tenant ? tenant.id : null, isActive: true, deletedAt: null },
          select: { id: true, passwordHash: true },
        }),
      )
    : null;
  const ok = await verifyPassword(candidate?.passwordHash ?? null, args.password);
  if (!candidate || !ok) {
    deps.metrics.authFailures.inc({ reason: 'bad_credentials' });
    req.logger.info({ tenantId: tenant?.id }, 'login failed');
    throw new UnauthenticatedError(INVALID_CREDENTIALS);
  }

  return sharedTx(deps.shared, scope, async (tx) => {
    const principal = await loadPrincipal(tx, candidate.id);
    if (!principal) throw new UnauthenticatedError(INVALID_CREDENTIALS);
    await tx.user.update({ where: { id: principal.userId }, data: { lastLogin: new Date() } });
    const tokens = await issueTokens(deps, tx, principal, req, randomUUID());
    if (tenant) {
      await recordAudit(tx, tenant.schemaName, {
        userId: principal.userId,
        action: 'LOGIN',
        entityType: 'User',
        entityId: principal.userId,
        ipAddress: req.ip,
        userAgent: req.userAgent,
        correlationId: req.requestId,
      });
    }
    return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: deps.accessTokens.ttlSeconds, principal };
  });
}

/**
 * Rotates a refresh token. Each token is single-use: the conditional update lets exactly one
 * caller rotate it; presenting it again (a thief, or the victim after a theft) revokes every
 * token of its family, ending the stolen session.
 */
export async function refresh(deps: TenantDeps, req: RequestBase, token: string): Promise<AuthResult> {
  const tokenHash = hashToken(token);
  // The token is the only credential here; the lookup is by its hash, so platform scope is safe.
  const outcome = await sharedTx(deps.shared, { kind: 'platform' }, async (tx) => {
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
    const next = await issueTokens(deps, tx, principal, req, row.familyId);
    await tx.refreshToken.update({ where: { id: row.id }, data: { replacedById: next.id } });
    return { kind: 'ok' as const, result: { accessToken: next.accessToken, refreshToken: next.refreshToken, expiresIn: deps.accessTokens.ttlSeconds, principal } };
  });
  if (outcome.kind === 'ok') return outcome.result;
  deps.metrics.authFailures.inc({ reason: outcome.kind === 'reuse' ? 'refresh_reuse' : 'refresh_invalid' });
  if (outcome.kind === 'reuse') {
    req.logger.warn({ userId: outcome.userId }, 'refresh token reused; family revoked');
    throw new UnauthenticatedError('Refresh token already used; please sign in again');
  }
  throw new UnauthenticatedError('Invalid or expired refresh token');
}

/** Revokes the session (token family) the refresh token belongs to. */
export async function logout(deps: TenantDeps, req: RequestBase, token: string): Promise<boolean> {
  const tokenHash = hashToken(token);
  return sharedTx(deps.shared, { kind: 'platform' }, async (tx) => {
    const row = await tx.refreshToken.findUnique({ where: { tokenHash }, select: { familyId: true, userId: true, tenantId: true } });
    if (!row) return false;
    await tx.refreshToken.updateMany({ where: { familyId: row.familyId, revokedAt: null }, data: { revokedAt: new Date(), revokedReason: 'logout' } });
    if (row.tenantId) {
      const tenant = await deps.directory.resolve(row.tenantId);
      if (tenant) {
        await recordAudit(tx, tenant.schemaName, {
          userId: row.userId,
          action: 'LOGOUT',
          entityType: 'User',
          entityId: row.userId,
          ipAddress: req.ip,
          userAgent: req.userAgent,
          correlationId: req.requestId,
        });
      }
    }
    return true;
  });
}
