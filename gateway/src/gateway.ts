import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { Fetcher } from '@apollo/utils.fetcher';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import {
  INTERNAL_HEADER,
  createHttpServer,
  jsonErrorHandler,
  securityHeaders,
  SUBGRAPHS,
  graphiqlEnabled,
  introspectionEnabled,
  maskError,
  subgraphUrl,
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
  constructor(private readonly subgraph: string, url: string, private readonly tokens: InternalTokens) {
    // Node's fetch (undici) honours the subgraph's Keep-Alive timeout and retires idle connections
    // before the server does; the default fetcher keeps them forever and races the server's close.
    super({ url, fetcher: fetch as unknown as Fetcher });
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    if (!('requestId' in context)) return; // Health checks carry no caller; subgraphs refuse them.
    const ctx = context as GatewayContext;
    let token = ctx.internalTokens.get(this.subgraph);
    if (!token) {
      token = this.tokens.sign({ rid: ctx.requestId, ip: ctx.ip, ua: ctx.userAgent, usr: ctx.principal, th: ctx.tenantHint }, this.subgraph);
      ctx.internalTokens.set(this.subgraph, token);
    }
    request.http?.headers.set(INTERNAL_HEADER, await token);
    request.http?.headers.set('x-request-id', ctx.requestId);
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

/** The public endpoint: Apollo Gateway over the committed supergraph, with the edge's protections. */
export async function createGateway(deps: GatewayDeps) {
  const { env } = deps;
  const urls = Object.fromEntries(SUBGRAPHS.map((name) => [name, subgraphUrl(env, name)]));
  const gateway = new ApolloGateway({
    supergraphSdl: deps.supergraphSdl,
    buildService: ({ name }) => new InternalAuthDataSource(name, urls[name] ?? '', deps.internalTokens),
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // Introspection is decided per request (./introspection): anonymous callers only where it is open.
    introspection: true,
    hideSchemaDetailsFromClientErrors: true,
    includeStacktraceInErrorResponses: false,
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
  app.get('/readyz', (_req, res) => {
    void Promise.all(
      Object.entries(urls).map(async ([name, url]) => {
        const r = await fetch(url.replace(/\/graphql$/, '/readyz'), { signal: AbortSignal.timeout(2000) }).catch(() => null);
        return [name, r?.ok === true] as const;
      }),
    ).then((checks) => {
      const down = checks.filter(([, ok]) => !ok).map(([name]) => name);
      res.status(down.length ? 503 : 200).json({ status: down.length ? 'unavailable' : 'ready', down });
    });
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
    async close(): Promise<void> {
      await subscriptions.close();
      await apollo.stop();
      server.closeAllConnections();
      await http.close();
    },
  };
}
export type Gateway = Awaited<ReturnType<typeof createGateway>>;
