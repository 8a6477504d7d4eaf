import type { Request } from 'express';
import { AppError, type Logger, type Principal } from '@umi/kit';
import type { Authenticator } from './auth';

/** Per-request state of the gateway, handed to the subgraph data sources. */
export interface GatewayContext {
  requestId: string;
  principal: Principal | null;
  tenantHint: string | null;
  ip: string | null;
  userAgent: string | null;
  logger: Logger;
  /** The operation's bounded name (see plugins/observability), once resolved: subgraphs label their spans with it. */
  operation?: string;
  /** Internal tokens already signed for this request, by subgraph. */
  internalTokens: Map<string, Promise<string>>;
}

/** The status of each refusal of `authenticate`: the whole request is refused, not one field. */
const HTTP_STATUS: Record<string, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, TOO_MANY_REQUESTS: 429 };

/** Builds the gateway context of an HTTP request from the gateway's one `authenticate`. */
export function createContextBuilder(auth: Authenticator) {
  return async (req: Request): Promise<GatewayContext> => {
    try {
      const { requestId, principal, tenantHint, ip, userAgent, logger } = await auth.authenticate({
        transport: 'http',
        authorization: req.headers.authorization,
        host: req.headers.host,
        tenantHeader: req.headers['x-tenant-id'],
        requestIdHeader: req.headers['x-request-id'],
        ip: req.ip ?? null,
        userAgent: req.headers['user-agent'],
      });
      return { requestId, principal, tenantHint, ip, userAgent, logger, internalTokens: new Map() };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const status = HTTP_STATUS[String(err.extensions.code)];
      const retryAfter = err.extensions.retryAfter;
      // RFC 9110: a 429 says when to come back, for clients that read headers rather than bodies.
      const headers: Record<string, string> = typeof retryAfter === 'number' ? { 'retry-after': String(Math.max(1, retryAfter)) } : {};
      throw status ? err.withHttpStatus(status, headers) : err;
    }
  };
}
