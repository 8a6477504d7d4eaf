import { LRUCache } from 'lru-cache';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { Fetcher } from '@apollo/utils.fetcher';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import {
  INTERNAL_HEADER,
  OPERATION_HEADER,
  createAdmission,
  injectTraceContext,
  tracingStarted,
  createHttpServer,
  jsonErrorHandler,
  securityHeaders,
  SUBGRAPHS,
  graphiqlEnabled,
  introspectionEnabled,
  maskError,
  subgraphUrl,
  type AccessTokens,
  type Env,
  type InternalTokens,
} from '@umi/kit';
import type { EventBus } from '@umi/events/bus';
import type { GraphQLSchema } from 'graphql';
import { attachSubscriptions } from './subscriptions/server';
import { createAuthenticator, type AuthDeps } from './auth';
import { createContextBuilder, type GatewayContext } from './context';
import { cors } from './cors';
import { checkTokenLimit, limitRules } from './limits';
import { observability } from './plugins/observability';
import { refuseNulCharacters } from './plugins/input-guard';
import { ambiguousOutcomes, fetchFailure } from './unavailable';
import { dedupeRepresentations, expandEntities } from './representations';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { DEFAULT_MANIFEST_PATH, loadManifest, manifestOnlyClients, persistedOperations } from './persisted';
import { DEFAULT_WEB_DIST, webPages } from './web';
import { introspectionPolicy } from './introspection';
import { scopePolicy } from './scopes';
import { oauthToken } from './oauth';
import { AppError } from '@umi/kit';
import { lexicographicSortSchema, printSchema } from 'graphql';

export interface GatewayDeps extends AuthDeps {
  env: Env;
  internalTokens: InternalTokens;
  supergraphSdl: string;
  /** Where subscription events arrive (Redis streams, or in-process without Redis). */
  bus: EventBus;
}

/** Forwards the caller's verified identity to a subgraph as a short-lived signed token. */
class InternalAuthDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly tokenCache = new LRUCache<string, { token: Promise<string>; renewAt: number }>({ max: 10_000 });

  constructor(private readonly subgraph: string, url: string, private readonly tokens: InternalTokens, private readonly ttlSeconds: number) {
    // Node's fetch (undici) honours the subgraph's Keep-Alive timeout and retires idle connections
    // before the server does; the default fetcher keeps them forever and races the server's close.
    super({ url, fetcher: fetch as unknown as Fetcher });
  }

  /**
   * The caller's token for this subgraph: signed once and reused for half its life by every request
   * with the same caller, address, agent and tenant hint (the request id travels as x-request-id).
   * Signing per subgraph per request cost an HMAC and a JSON encoding for each fetch.
   */
  private reusable(ctx: GatewayContext): Promise<string> {
    const key = JSON.stringify([ctx.principal, ctx.ip, ctx.userAgent, ctx.tenantHint]);
    const now = Date.now();
    const hit = this.tokenCache.get(key);
    if (hit && hit.renewAt > now) return hit.token;
    const token = this.tokens.sign({ ip: ctx.ip, ua: ctx.userAgent, usr: ctx.principal, th: ctx.tenantHint }, this.subgraph);
    this.tokenCache.set(key, { token, renewAt: now + (this.ttlSeconds * 1000) / 2 });
    // A failed signature is not kept.
    token.catch(() => this.tokenCache.delete(key));
    return token;
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    if (!('requestId' in context)) return; // Health checks carry no caller; subgraphs refuse them.
    const ctx = context as GatewayContext;
    let token = ctx.internalTokens.get(this.subgraph);
    if (!token) {
      token = this.reusable(ctx);
      ctx.internalTokens.set(this.subgraph, token);
    }
    request.http?.headers.set(INTERNAL_HEADER, await token);
    request.http?.headers.set('x-request-id', ctx.requestId);
    if (tracingStarted() && request.http) {
      // Node's fetch is not instrumented: the subgraph's spans join this one (gateway.fetch) through traceparent.
      injectTraceContext(request.http.headers);
      if (ctx.operation) request.http.headers.set(OPERATION_HEADER, ctx.operation);
    }
  }

  /** A transport failure becomes the request's SERVICE_UNAVAILABLE / OUTCOME_UNKNOWN error (see ./unavailable). */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): ReturnType<RemoteGraphQLDataSource['process']> {
    try {
      return await this.processDeduplicated(options);
    } catch (err) {
      const failure = fetchFailure(options.request.query ?? '', err);
      if (!failure) throw err;
      if ('logger' in options.context) (options.context as GatewayContext).logger.warn({ err: (err as Error).message, subgraph: this.subgraph }, 'subgraph fetch failed');
      return { errors: [failure] };
    }
  }

  /** Entity fetches carry each distinct representation once (see ./representations). */
  private async processDeduplicated(options: GraphQLDataSourceProcessOptions<GatewayContext>): ReturnType<RemoteGraphQLDataSource['process']> {
    const representations: unknown = options.request.variables?.representations;
    if (!Array.isArray(representations)) return super.process(options);
    const { unique, slots } = dedupeRepresentations(representations);
    if (unique.length === representations.length) return super.process(options);
    const request = { ...options.request, variables: { ...options.request.variables, representations: unique } };
    return expandEntities(await super.process({ ...options, request }), slots);
  }
}

/**
 * Whose in-flight budget a request spends: its tenant when it carries a valid access token (the
 * platform operator's has none: 'platform'), else its IP. Verified, not decoded: a forged token
 * naming another tenant must not spend that tenant's share.
 */
async function admissionKey(tokens: AccessTokens, authorization: string | undefined, ip: string | null): Promise<string> {
  const token = typeof authorization === 'string' ? /^Bearer\s+(.+)$/i.exec(authorization)?.[1] : undefined;
  if (token) {
    const principal = await tokens.verify(token).then(
      (v) => v.principal,
      () => null,
    );
    if (principal) return `tenant:${principal.tenantId ?? 'platform'}`;
  }
  return `ip:${ip ?? 'unknown'}`;
}

/** The public endpoint: Apollo Gateway over the committed supergraph, with the edge's protections. */
export async function createGateway(deps: GatewayDeps) {
  const { env } = deps;
  const urls = Object.fromEntries(SUBGRAPHS.map((name) => [name, subgraphUrl(env, name)]));
  const gateway = new ApolloGateway({
    supergraphSdl: deps.supergraphSdl,
    buildService: ({ name }) => new InternalAuthDataSource(name, urls[name] ?? '', deps.internalTokens, deps.env.INTERNAL_TOKEN_TTL_SECONDS),
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // Introspection is decided per request (./introspection): anonymous callers only where it is open.
    introspection: true,
    hideSchemaDetailsFromClientErrors: true,
    includeStacktraceInErrorResponses: false,
    // Shutdown is runMain's: drain first, then stop. Apollo's own handler would stop at once.
    stopOnTerminationSignals: false,
    validationRules: limitRules(env),
    // Answers are per tenant and private: no cache-control hints (whose plugin wraps every field).
    // Apollo's landing pages load their sandbox from a CDN: browsers get the bundled GraphiQL instead.
    plugins: [
      observability(deps.metrics),
      ambiguousOutcomes<GatewayContext>(),
      refuseNulCharacters<GatewayContext>(),
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      introspectionPolicy(introspectionEnabled(env)),
      scopePolicy(),
    ],
    formatError: (formatted, error) => maskError(formatted, error, undefined, () => {}),
  });
  let apiSchema: GraphQLSchema | null = null;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: schema }) => {
    apiSchema = schema;
  });
  await apollo.start();

  const auth = createAuthenticator(deps);
  const buildContext = createContextBuilder(auth);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(securityHeaders);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Liveness: the event loop answers. Readiness: not draining, and every subgraph ready (each
  // checks its database on a connection of its own), with a short timeout and the answer reused
  // for a second, so that probes never queue behind requests nor multiply under load.
  let readiness: { at: number; down: string[] } | null = null;
  let checking: Promise<string[]> | null = null;
  const subgraphsDown = async (): Promise<string[]> => {
    if (readiness && Date.now() - readiness.at < 1000) return readiness.down;
    checking ??= Promise.all(
      Object.entries(urls).map(async ([name, url]) => {
        const r = await fetch(url.replace(/\/graphql$/, '/readyz'), { signal: AbortSignal.timeout(env.READINESS_TIMEOUT_MS) }).catch(() => null);
        return [name, r?.ok === true] as const;
      }),
    )
      .then((checks) => {
        const down = checks.filter(([, ok]) => !ok).map(([name]) => name);
        readiness = { at: Date.now(), down };
        return down;
      })
      .finally(() => {
        checking = null;
      });
    return checking;
  };
  app.get('/readyz', (_req, res) => {
    if (http.draining) {
      res.status(503).json({ status: 'draining', down: [] });
      return;
    }
    void subgraphsDown().then((down) => {
      res.status(down.length ? 503 : 200).json({ status: down.length ? 'unavailable' : 'ready', down });
    });
  });
  // Mobile-money providers' callbacks: plain HTTP beside /graphql, forwarded as they came to the pos
  // subgraph, which finds the tenant from our reference and checks the secret (and Airtel's hash).
  const posOrigin = new URL(urls.pos ?? subgraphUrl(env, 'pos')).origin;
  app.all('/callbacks/:provider/:secret', express.raw({ type: () => true, limit: '64kb' }), (req, res) => {
    if (req.method !== 'POST' && req.method !== 'PUT') {
      res.status(405).end();
      return;
    }
    const query = new URLSearchParams(req.originalUrl.split('?')[1] ?? '').toString();
    const target = `${posOrigin}/callbacks/${encodeURIComponent(String(req.params.provider))}/${encodeURIComponent(String(req.params.secret))}${query ? `?${query}` : ''}`;
    fetch(target, {
      method: req.method,
      headers: { 'content-type': 'application/json' },
      body: Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : '{}',
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (r) => res.status(r.status).type('application/json').send(await r.text()))
      .catch((err: unknown) => {
        deps.logger.warn({ err: (err as Error).message }, 'callback forwarding failed');
        res.status(502).json({ error: 'unavailable' });
      });
  });
  const admission = createAdmission({
    maxInFlight: env.MAX_IN_FLIGHT,
    maxPerKey: env.MAX_IN_FLIGHT_PER_TENANT,
    keyOf: (req) => admissionKey(deps.accessTokens, req.headers.authorization, req.ip ?? null),
    onRefused: (code) => deps.metrics.rateLimited.inc({ limit: code === 'TOO_MANY_REQUESTS' ? 'in_flight_tenant' : 'in_flight_process' }),
  });
  // The composed API schema as SDL, for partners' code generators: any signed-in user or API client.
  app.get('/schema.graphql', (req, res) => {
    void auth
      .authenticate({
        transport: 'http',
        authorization: req.headers.authorization,
        host: req.headers.host,
        tenantHeader: req.headers['x-tenant-id'],
        requestIdHeader: req.headers['x-request-id'],
        ip: req.ip ?? null,
        userAgent: req.headers['user-agent'],
      })
      .then((caller) => {
        if (!caller.principal) {
          res.status(401).json({ errors: [{ message: 'The schema needs a signed-in user or an API client token', extensions: { code: 'UNAUTHENTICATED' } }] });
          return;
        }
        if (!apiSchema) {
          res.status(503).type('text/plain').send('schema not loaded\n');
          return;
        }
        res.type('text/plain; charset=utf-8').send(printSchema(lexicographicSortSchema(apiSchema)));
      })
      .catch((err: unknown) => {
        const code = err instanceof AppError ? String(err.extensions.code) : 'INTERNAL_SERVER_ERROR';
        const status = { UNAUTHENTICATED: 401, FORBIDDEN: 403, TOO_MANY_REQUESTS: 429 }[code] ?? 500;
        res.status(status).json({ errors: [{ message: err instanceof AppError ? err.message : 'Internal error', extensions: { code } }] });
      });
  });
  app.post('/oauth/token', express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' }), oauthToken(apollo, buildContext));
  const web = webPages({ dist: env.WEB_DIST_PATH ?? DEFAULT_WEB_DIST, graphiql: graphiqlEnabled(env) });
  app.use(web.static);
  const manifest = loadManifest(env.OPERATIONS_MANIFEST_PATH ?? DEFAULT_MANIFEST_PATH, deps.logger);
  app.use(
    '/graphql',
    web.explorer,
    cors(env.CORS_ORIGINS.split(',')),
    admission.middleware,
    express.json({ limit: '256kb' }),
    persistedOperations(manifest, manifestOnlyClients(env)),
    (req, res, next) => {
      const query = (req.body as { query?: unknown } | undefined)?.query ?? req.query.query;
      const tooLong = typeof query === 'string' ? checkTokenLimit(query, env.MAX_TOKENS) : null;
      if (tooLong) {
        res.status(400).json({ errors: [{ message: tooLong.message, extensions: tooLong.extensions }] });
        return;
      }
      next();
    },
    expressMiddleware(apollo, { context: async ({ req }) => buildContext(req) }),
  );
  app.use(jsonErrorHandler((err) => deps.logger.error({ err }, 'unhandled HTTP error')));

  const http = createHttpServer(app);
  const server = http.server;
  const subscriptions = attachSubscriptions(server, {
    env,
    logger: deps.logger,
    metrics: deps.metrics,
    auth,
    bus: deps.bus,
    apollo,
    schema: () => {
      if (!apiSchema) throw new Error('supergraph not loaded');
      return apiSchema;
    },
  });
  return {
    app,
    server,
    apollo,
    listen: http.listen,
    subscriptions,
    admission,
    get draining() {
      return http.draining;
    },
    /**
     * Not ready at once, stops accepting, lets requests in flight finish (up to
     * SHUTDOWN_TIMEOUT_MS), then closes WebSockets with 1001 and stops.
     */
    async close(): Promise<void> {
      const cut = await http.drain(env.SHUTDOWN_TIMEOUT_MS);
      if (cut > 0) deps.logger.warn({ cut }, 'shutdown timeout: requests in flight were cut');
      await subscriptions.close();
      await apollo.stop();
    },
  };
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;
