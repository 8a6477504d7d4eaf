import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { AppError, TooManyRequestsError, type AccessTokens, type Env, type Logger, type Metrics, type Principal, type TokenBucket } from '@umi/kit';
import { resolveTenantHint, subdomainOf } from './tenant-resolution';

/** Per-request state of the gateway, handed to the subgraph data sources. */
export interface GatewayContext {
  requestId: string;
  principal: Principal | null;
  tenantHint: string | null;
  ip: string | null;
  userAgent: string | null;
  logger: Logger;
  /** Internal tokens already signed for this request, by subgraph. */
  internalTokens: Map<string, Promise<string>>;
}

export interface ContextDeps {
  env: Env;
  logger: Logger;
  metrics: Metrics;
  accessTokens: AccessTokens;
  rateLimit: TokenBucket;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Request id from the caller when well-formed (tracing across systems), otherwise a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * Builds the gateway context: verifies the bearer token, resolves the tenant, spends one token of
 * the caller's rate-limit bucket (user when signed in, else IP).
 */
export function createContextBuilder(deps: ContextDeps) {
  return async (req: Request): Promise<GatewayContext> => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    const auth = req.headers.authorization;
    let principal: Principal | null = null;
    if (auth) {
      const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? '';
      try {
        principal = (await deps.accessTokens.verify(token)).principal;
      } catch (err) {
        deps.metrics.authFailures.inc({ reason: 'access_token' });
        throw err instanceof AppError ? err.withHttpStatus(401) : err;
      }
    }
    const ip = req.ip ?? null;
    const bucket = await deps.rateLimit.take(principal ? `user:${principal.userId}` : `ip:${ip ?? 'unknown'}`);
    if (!bucket.allowed) {
      deps.metrics.rateLimited.inc({ limit: 'request' });
      throw new TooManyRequestsError(Math.ceil(bucket.retryAfterMs / 1000)).withHttpStatus(429);
    }
    const header = req.headers['x-tenant-id'];
    let tenantHint: string | null;
    try {
      tenantHint = resolveTenantHint(principal, typeof header === 'string' ? header : undefined, subdomainOf(req.headers.host, deps.env.BASE_DOMAIN));
    } catch (err) {
      deps.metrics.authDenials.inc({ code: 'FORBIDDEN' });
      throw err;
    }
    return {
      requestId,
      principal,
      tenantHint,
      ip,
      userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
      logger: deps.logger.child({ requestId, tenantId: principal?.tenantId ?? undefined, userId: principal?.userId }),
      internalTokens: new Map(),
    };
  };
}
