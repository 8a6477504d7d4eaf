import type { ApolloServer } from '@apollo/server';
import type { Request, RequestHandler } from 'express';
import type { GatewayContext } from './context';

const ISSUE = `mutation IssueClientToken($clientId: String!, $clientSecret: String!) {
  issueClientToken(clientId: $clientId, clientSecret: $clientSecret) { accessToken tokenType expiresIn scope }
}`;

interface IssuedToken {
  issueClientToken: { accessToken: string; tokenType: string; expiresIn: number; scope: string };
}

/** client_id and client_secret from HTTP Basic (RFC 6749 2.3.1) or the form / JSON body. */
function credentialsOf(req: Request): { clientId: unknown; clientSecret: unknown } {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  return { clientId: body.client_id, clientSecret: body.client_secret };
}

/**
 * POST /oauth/token: OAuth2 client credentials (RFC 6749 4.4), form-encoded or JSON, answered in
 * OAuth2's shape. The exchange itself is the tenant subgraph's issueClientToken, run through the
 * gateway like any request (rate limits, audit, masking), so the credential check lives in one place.
 */
export function oauthToken(apollo: ApolloServer<GatewayContext>, buildContext: (req: Request) => Promise<GatewayContext>): RequestHandler {
  return (req, res) => {
    res.set({ 'cache-control': 'no-store', pragma: 'no-cache' });
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.grant_type !== 'client_credentials') {
      res.status(400).json({ error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
      return;
    }
    const { clientId, clientSecret } = credentialsOf(req);
    if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || !clientId || !clientSecret) {
      res.status(400).json({ error: 'invalid_request', error_description: 'client_id and client_secret are required' });
      return;
    }
    // The caller is anonymous here: its credentials are the client's, not a bearer token.
    const anonymous = Object.assign(Object.create(req) as Request, { headers: { ...req.headers, authorization: undefined } });
    void buildContext(anonymous)
      .then((contextValue) => apollo.executeOperation<IssuedToken>({ query: ISSUE, variables: { clientId, clientSecret } }, { contextValue }))
      .then((response) => {
        const result = response.body.kind === 'single' ? response.body.singleResult : null;
        const token = result?.data?.issueClientToken;
        if (token) {
          res.json({ access_token: token.accessToken, token_type: token.tokenType, expires_in: token.expiresIn, scope: token.scope });
          return;
        }
        const code = result?.errors?.[0]?.extensions?.code;
        if (code === 'UNAUTHENTICATED') res.status(401).set('www-authenticate', 'Basic realm="umi-health"').json({ error: 'invalid_client' });
        else if (code === 'TOO_MANY_REQUESTS') res.status(429).json({ error: 'slow_down', retry_after: result?.errors?.[0]?.extensions?.retryAfter });
        else res.status(500).json({ error: 'server_error' });
      })
      .catch((err: unknown) => {
        const status = (err as { extensions?: { http?: { status?: number } } }).extensions?.http?.status;
        res.status(status === 429 ? 429 : 500).json({ error: status === 429 ? 'slow_down' : 'server_error' });
      });
  };
}
