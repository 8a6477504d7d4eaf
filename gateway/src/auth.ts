import { randomUUID } from 'node:crypto';
import {
  ForbiddenError,
  TooManyRequestsError,
  UnauthenticatedError,
  type AccessTokens,
  type Env,
  type Logger,
  type Metrics,
  type Principal,
  type TakeResult,
  type TokenBucket,
} from '@umi/kit';
import { resolveTenantHint, subdomainOf } from './tenant-resolution';

/** The gateway's two public doors. */
export type Transport = 'http' | 'ws';

/** The rate limits the gateway spends from a caller's bucket, as labelled in `rate_limited_total`. */
export type RateLimitName = 'request' | 'ws_connect' | 'ws_subscribe';

/**
 * What each door demands of a caller. The metric labels keep the values the counters had before
 * both doors shared this code (`auth_failures_total{reason}`, `rate_limited_total{limit}`), so the
 * transport shows in them without a new label; `auth_denials_total` has only `code`.
 */
interface DoorPolicy {
  /** Anonymous HTTP is needed for login; a subscription always belongs to a signed-in user. */
  requireToken: boolean;
  /** Events are per tenant: the platform operator has none to subscribe to. */
  requireTenant: boolean;
  failureReason: string;
  rateLimit: RateLimitName;
}

const POLICIES: Record<Transport, DoorPolicy> = {
  http: { requireToken: false, requireTenant: false, failureReason: 'access_token', rateLimit: 'request' },
  ws: { requireToken: true, requireTenant: true, failureReason: 'ws_token', rateLimit: 'ws_connect' },
};

/** A request at either door, as raw as the transport hands it over. */
export interface AuthRequest<T extends Transport = Transport> {
  transport: T;
  /** The Authorization header, or graphql-ws `connectionParams.authorization` (or `Authorization`). */
  authorization: unknown;
  host: string | undefined;
  /** X-Tenant-ID; read over HTTP only, as browsers cannot set headers on a WebSocket. */
  tenantHeader?: string | string[] | undefined;
  /** X-Request-ID, kept when well-formed so that a trace crosses systems. */
  requestIdHeader?: string | string[] | undefined;
  ip: string | null;
  userAgent: string | undefined;
}

interface Identity<T extends Transport> {
  principal: T extends 'ws' ? Principal : Principal | null;
  /** The access token's expiry in epoch seconds; null when anonymous. */
  expiresAt: T extends 'ws' ? number : number | null;
}

/** The caller once both doors' checks passed; over graphql-ws always a signed-in tenant user. */
export type Authentication<T extends Transport = Transport> = Identity<T> & {
  tenantHint: string | null;
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  logger: Logger;
  /** The bucket after this request's token was taken from it. */
  rateLimit: TakeResult;
};

export interface AuthDeps {
  env: Pick<Env, 'BASE_DOMAIN'>;
  logger: Logger;
  metrics: Metrics;
  accessTokens: AccessTokens;
  rateLimit: TokenBucket;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** The caller's rate-limit bucket: their own once signed in, so that users behind one NAT do not share. */
function rateLimitKey(principal: Principal | null, ip: string | null): string {
  return principal ? `user:${principal.userId}` : `ip:${ip ?? 'unknown'}`;
}

/** The token of a Bearer credential; null when none was sent, and '' when it is not a Bearer one. */
function bearerOf(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw === '') return null;
  return /^Bearer\s+(.+)$/i.exec(raw)?.[1] ?? '';
}

/**
 * The one authentication of the gateway, for HTTP requests and graphql-ws connections alike, in
 * this order: the bearer token (UNAUTHENTICATED, after a token of the IP's bucket), the door's tenant requirement (FORBIDDEN), one
 * token of the caller's rate-limit bucket (TOO_MANY_REQUESTS with `retryAfter` seconds), then the
 * tenant named by X-Tenant-ID or the Host (FORBIDDEN when it is not the token's). The tenant check
 * comes after the charge so that probing other tenants with a token still costs from its bucket.
 * Refusals are plain AppErrors, counted here; each transport maps them to its own form.
 */
export function createAuthenticator(deps: AuthDeps) {
  const { metrics } = deps;

  /**
   * The caller's identity. A refused credential still costs a token of the IP's bucket: otherwise
   * guessing or replaying tokens (each one a signature check) would be free and unlimited.
   */
  async function identify(raw: unknown, policy: DoorPolicy, ip: string | null): Promise<Identity<Transport>> {
    const token = bearerOf(raw);
    if (token === null && !policy.requireToken) return { principal: null, expiresAt: null };
    try {
      if (token === null) throw new UnauthenticatedError();
      if (token === '') throw new UnauthenticatedError('Authorization must be "Bearer <access token>"');
      return await deps.accessTokens.verify(token);
    } catch (err) {
      metrics.authFailures.inc({ reason: policy.failureReason });
      const outcome = await charge({ principal: null, ip }, policy.rateLimit);
      if (!outcome.allowed) throw new TooManyRequestsError(Math.ceil(outcome.retryAfterMs / 1000));
      throw err;
    }
  }

  function deny(err: ForbiddenError): ForbiddenError {
    metrics.authDenials.inc({ code: 'FORBIDDEN' });
    return err;
  }

  /** Spends one token of the caller's bucket; a refusal is counted under `limit`. */
  async function charge(caller: { principal: Principal | null; ip: string | null }, limit: RateLimitName): Promise<TakeResult> {
    const outcome = await deps.rateLimit.take(rateLimitKey(caller.principal, caller.ip));
    if (!outcome.allowed) metrics.rateLimited.inc({ limit });
    return outcome;
  }

  async function authenticate<T extends Transport>(req: AuthRequest<T>): Promise<Authentication<T>> {
    const policy = POLICIES[req.transport];
    const requestId = requestIdOf(req.requestIdHeader);
    const { principal, expiresAt } = await identify(req.authorization, policy, req.ip);
    if (policy.requireTenant && principal && !principal.tenantId) throw deny(new ForbiddenError('Only a tenant’s users can subscribe to its events'));
    const rateLimit = await charge({ principal, ip: req.ip }, policy.rateLimit);
    if (!rateLimit.allowed) throw new TooManyRequestsError(Math.ceil(rateLimit.retryAfterMs / 1000));
    const header = req.transport === 'http' && typeof req.tenantHeader === 'string' ? req.tenantHeader : undefined;
    let tenantHint: string | null;
    try {
      tenantHint = resolveTenantHint(principal, header, subdomainOf(req.host, deps.env.BASE_DOMAIN));
    } catch (err) {
      throw err instanceof ForbiddenError ? deny(err) : err;
    }
    return {
      principal,
      expiresAt,
      tenantHint,
      requestId,
      ip: req.ip,
      userAgent: req.userAgent?.slice(0, 512) ?? null,
      logger: deps.logger.child({ requestId, tenantId: principal?.tenantId ?? undefined, userId: principal?.userId }),
      rateLimit,
    } as Authentication<T>;
  }

  return { authenticate, charge };
}
export type Authenticator = ReturnType<typeof createAuthenticator>;
