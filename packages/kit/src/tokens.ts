import { LRUCache } from 'lru-cache';
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { principalSchema, type Principal } from './principal';
import { UnauthenticatedError } from './errors';

const ALG = 'HS256';
/** How far the clocks of the signer and the verifier may disagree (seconds). */
const CLOCK_SKEW_SECONDS = 60;
const encoder = new TextEncoder();

const accessClaims = z.object({
  sub: z.string().uuid(),
  email: z.string(),
  role: principalSchema.shape.role,
  tid: z.string().uuid().nullable(),
  tsd: z.string().nullable(),
  br: z.array(z.string().uuid()),
  perm: principalSchema.shape.permissions,
  scp: z.array(z.string()).optional(),
});

export interface AccessTokenConfig {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** Issues and verifies the public access JWT (HS256 pinned; iss, aud, exp checked; iat at most a minute ahead, lifetime at most the TTL). */
export function createAccessTokens(cfg: AccessTokenConfig) {
  const key = encoder.encode(cfg.secret);
  // A client sends the same token with every request until it expires; its HMAC and claims are
  // checked once (the answer cannot change before `exp`, which is checked on every use).
  const verified = new LRUCache<string, { principal: Principal; expiresAt: number }>({ max: 10_000 });
  return {
    ttlSeconds: cfg.ttlSeconds,
    /** `ttlSeconds` overrides the configured lifetime (API clients' tokens are shorter-lived). */
    async sign(p: Principal, ttlSeconds = cfg.ttlSeconds): Promise<string> {
      const scopes = p.scopes ? { scp: p.scopes } : {};
      return new SignJWT({ email: p.email, role: p.role, tid: p.tenantId, tsd: p.tenantSubdomain, br: p.branchIds, perm: p.permissions, ...scopes })
        .setProtectedHeader({ alg: ALG, typ: 'JWT' })
        .setSubject(p.userId)
        .setIssuer(cfg.issuer)
        .setAudience(cfg.audience)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    /** Resolves to the principal and the token's expiry (epoch seconds), or throws UNAUTHENTICATED. */
    async verify(token: string): Promise<{ principal: Principal; expiresAt: number }> {
      const known = verified.get(token);
      if (known) {
        if (known.expiresAt * 1000 > Date.now()) return { principal: { ...known.principal }, expiresAt: known.expiresAt };
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: [ALG], issuer: cfg.issuer, audience: cfg.audience, requiredClaims: ['exp', 'sub', 'iat'] });
        // A token signed with the right key is still refused when it claims to be issued in the
        // future or to live longer than this platform issues them: a leaked signing path must
        // not mint tokens that outlive a key rotation by years.
        const now = Math.floor(Date.now() / 1000);
        const iat = payload.iat as number;
        const exp = payload.exp as number;
        if (iat > now + CLOCK_SKEW_SECONDS || exp - iat > cfg.ttlSeconds + CLOCK_SKEW_SECONDS) throw new UnauthenticatedError('Invalid access token');
        const c = accessClaims.parse(payload);
        const result = {
          principal: { userId: c.sub, email: c.email, role: c.role, tenantId: c.tid, tenantSubdomain: c.tsd, branchIds: c.br, permissions: c.perm, ...(c.scp ? { scopes: c.scp } : {}) },
          expiresAt: payload.exp as number,
        };
        verified.set(token, result);
        return result;
      } catch (err) {
        throw new UnauthenticatedError(err instanceof joseErrors.JWTExpired ? 'Access token expired' : 'Invalid access token');
      }
    },
  };
}
export type AccessTokens = ReturnType<typeof createAccessTokens>;

/** What the gateway tells a subgraph about a request: the caller, verified once at the edge. */
export const internalClaimsSchema = z.object({
  /**
   * The request's id. The gateway leaves it out of the tokens it reuses across requests of one
   * caller and sends it as `x-request-id`; a token that names it wins.
   */
  rid: z.string().min(1).max(128).optional(),
  ip: z.string().max(64).nullable(),
  ua: z.string().max(512).nullable(),
  usr: principalSchema.nullable(),
  /** Tenant named by X-Tenant-ID or the Host subdomain, for requests without a token (login). */
  th: z.string().max(128).nullable(),
});
export type InternalClaims = z.infer<typeof internalClaimsSchema>;

export const INTERNAL_HEADER = 'x-umi-internal';
const INTERNAL_ISSUER = 'umi-gateway';

/**
 * Short-lived signed tokens from the gateway to one subgraph (audience = subgraph name).
 * Subgraphs refuse any request without one, `_entities` included.
 */
export function createInternalTokens(secret: string, ttlSeconds: number) {
  const key = encoder.encode(secret);
  // The gateway reuses a caller's token for half its life, so a subgraph sees the same token many
  // times: verified once, its claims are kept until it expires.
  const verified = new LRUCache<string, { claims: InternalClaims; audience: string; expiresAt: number }>({ max: 10_000 });
  return {
    async sign(claims: InternalClaims, audience: string): Promise<string> {
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: ALG })
        .setIssuer(INTERNAL_ISSUER)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    async verify(token: string, audience: string): Promise<InternalClaims> {
      const known = verified.get(token);
      if (known && known.audience === audience && known.expiresAt > Date.now()) return known.claims;
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: [ALG], issuer: INTERNAL_ISSUER, audience, requiredClaims: ['exp'] });
        const claims = internalClaimsSchema.parse(payload);
        verified.set(token, { claims, audience, expiresAt: (payload.exp ?? 0) * 1000 });
        return claims;
      } catch {
        throw new UnauthenticatedError('Request did not come through the gateway');
      }
    },
  };
}
export type InternalTokens = ReturnType<typeof createInternalTokens>;
