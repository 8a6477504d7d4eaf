import { randomUUID } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';

import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import express from 'express';
import { type DocumentNode } from 'graphql';
import { applyMiddleware, middleware } from 'graphql-middleware';
import { allow, shield, deny, type IRules } from 'graphql-shield';
import { Histogram } from 'prom-client';
import { isConnectionError, isTenantSchemaGone } from '@umi/db';
import {
  BadUserInputError,
  createAdmission,
  createHttpServer,
  ForbiddenError,
  jsonErrorHandler,
  securityHeaders,
  INTERNAL_HEADER,
  OPERATION_HEADER,
  labelRequestSpan,
  requestSpan,
  ServiceUnavailableError,
  TenantMovingError,
  UnauthenticatedError,
  maskError,
  type InternalTokens,
  type Logger,
  type Metrics,
  type Principal,
} from '@umi/kit';

/** What every subgraph knows about a request once the gateway's internal token is verified. */
export interface RequestBase {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  principal: Principal | null;
  tenantHint: string | null;
  logger: Logger;
}

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  typeDefs: DocumentNode;
  /**
   * The subgraph's resolvers. Typed against its own SDL by GraphQL Code Generator (`Resolvers` in
   * each subgraph's generated types); Apollo's map type is looser and shaped differently for
   * `__resolveReference`, so the two meet here, once, rather than in every subgraph.
   */
  resolvers: object;
  permissions: IRules;
  internalTokens: InternalTokens;
  logger: Logger;
  metrics: Metrics;
  maxRepresentations: number;
  /** Requests worked on at once; beyond it the subgraph answers SERVICE_UNAVAILABLE at once. */
  maxInFlight?: number;
  /** On close, how long requests in flight may take to finish (ms). */
  shutdownTimeoutMs?: number;
  /** Builds the request's context (tenant, db, loaders) from the verified base. */
  createContext(base: RequestBase): Promise<TContext>;
  /** Readiness: resolves when the subgraph's dependencies answer. */
  ready(): Promise<void>;
  /** Plain HTTP routes of the subgraph beside /graphql (e.g. provider callbacks the gateway forwards). */
  routes?: (app: express.Express) => void;
  /** A mutation's operation was resolved: its reads must not come from caches. */
  mutationStarted?(ctx: TContext): void;
  /**
   * A mutation finished (its transaction committed or rolled back) and its answer is about to
   * leave: invalidate what it changed now, so that no one reads older data once the client has it.
   */
  mutationFinished?(ctx: TContext): Promise<void>;
}

/**
 * Answers 200 whatever happened: the gateway treats a non-2xx subgraph answer as a transport failure
 * and masks it, while a bad variable (e.g. an impossible Date) must reach the client as
 * BAD_USER_INPUT. Errors travel in the body.
 */
const alwaysOk: ApolloServerPlugin<BaseContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        response.http.status = 200;
      },
    };
  },
};

/** Caps `_entities` calls so one request cannot make a subgraph load unbounded rows. */
function representationCap(max: number): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request }) {
          const reps = request.variables?.representations;
          if (Array.isArray(reps) && reps.length > max) {
            throw new BadUserInputError(`At most ${max} entity representations per request`);
          }
        },
      };
    },
  };
}

/** Brackets mutations for the caches: bypass while running, invalidate before answering. */
function mutationHooks<TContext extends BaseContext>(opts: Pick<SubgraphServerOptions<TContext>, 'mutationStarted' | 'mutationFinished'>): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      let mutation = false;
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (operation?.operation !== 'mutation') return;
          mutation = true;
          opts.mutationStarted?.(contextValue);
        },
        async willSendResponse({ contextValue }) {
          if (mutation) await opts.mutationFinished?.(contextValue);
        },
      };
    },
  };
}

/** The rule that applies to `type.field` in a rule tree (a type's rule, its field's, or its `*`). */
function ruleOf(rules: IRules, type: string, field: string): unknown {
  const r = (rules as Record<string, unknown>)[type];
  if (r && typeof r === 'object' && Object.getPrototypeOf(r) === Object.prototype) {
    const map = r as Record<string, unknown>;
    return map[field] ?? map['*'];
  }
  return r;
}

/**
 * graphql-shield wraps every field in an async middleware, which makes every field a promise: a
 * list of 500 stock rows paid for 4,000 of them. Fields whose rule is `allow` gain nothing from
 * the wrapper, so it is dropped for them (everything else stays deny-by-default).
 */
function withoutAllowedFields(generator: ReturnType<typeof shield>, rules: IRules) {
  return middleware((schema) => {
    const map = (generator as unknown as { generate(s: unknown): Record<string, Record<string, unknown>> }).generate(schema);
    for (const [type, fields] of Object.entries(map)) {
      for (const field of Object.keys(fields)) if (ruleOf(rules, type, field) === allow) delete fields[field];
    }
    return map;
  });
}

/**
 * A subgraph as an HTTP server: verification of the gateway's token on every request,
 * graphql-shield deny-by-default, masked internal errors, health endpoints (metrics are served
 * apart, on the process's metrics port).
 * Tests build the same server and listen on an ephemeral port.
 */
export async function createSubgraphServer<TContext extends BaseContext & RequestBase>(opts: SubgraphServerOptions<TContext>) {
  const permissions = shield(opts.permissions, {
    fallbackRule: deny,
    // An anonymous caller is told to authenticate; a signed-in one that it may not.
    fallbackError: (_thrown, _parent, _args, ctx) => {
      if (!(ctx as unknown as RequestBase | undefined)?.principal) return new UnauthenticatedError();
      opts.metrics.authDenials.inc({ code: 'FORBIDDEN' });
      return new ForbiddenError();
    },
    allowExternalErrors: true,
  });
  const schema = applyMiddleware(
    buildSubgraphSchema([{ typeDefs: opts.typeDefs, resolvers: opts.resolvers as GraphQLResolverMap<TContext> }]),
    withoutAllowedFields(permissions, opts.permissions),
  );

  const apollo = new ApolloServer<TContext>({
    schema,
    introspection: true,
    hideSchemaDetailsFromClientErrors: true,
    includeStacktraceInErrorResponses: false,
    // Shutdown is runMain's: drain first, then stop. Apollo's own handler would stop at once.
    stopOnTerminationSignals: false,
    // Inline traces would hand resolver timings to every caller; no Apollo usage reporting here.
    // Cache-control hints are never used (every answer is one tenant's and private), and the
    // plugin wraps every field resolver: a large list paid for it on each field.
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), representationCap(opts.maxRepresentations) as ApolloServerPlugin<TContext>, mutationHooks(opts), subgraphTiming(opts.metrics) as ApolloServerPlugin<TContext>, alwaysOk as ApolloServerPlugin<TContext>],
    formatError: (formatted, error) => {
      // A unique index that a concurrent request won first: the caller's write conflicts.
      const cause = (error as { originalError?: { code?: unknown } }).originalError;
      if (cause?.code === 'P2002') return { ...formatted, message: 'Conflicts with an existing record', extensions: { code: 'CONFLICT' } };
      // A connection lost mid-request (terminated backend, reset socket): the request's
      // transaction rolled back, and the same request may be sent again.
      if (isConnectionError(cause ?? error)) {
        opts.logger.warn({ err: (cause as Error | undefined)?.message }, 'database connection lost during a request');
        const unavailable = new ServiceUnavailableError('The database connection was lost; retry the request');
        return { ...formatted, message: unavailable.message, extensions: { ...unavailable.extensions } };
      }
      // The tenant's schema was moved off the server this request reached (its writes waited on
      // the move's locks and found the schema gone): nothing of it was written; retry.
      if (isTenantSchemaGone(cause ?? error)) {
        const moving = new TenantMovingError();
        return { ...formatted, message: moving.message, extensions: { ...moving.extensions } };
      }
      return maskError(formatted, error, undefined, (err) => opts.logger.error({ err }, 'internal error'));
    },
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (http.draining) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    opts.ready().then(
      () => res.json({ status: 'ready' }),
      (err: Error) => res.status(503).json({ status: 'unavailable', reason: err.message }),
    );
  });
  opts.routes?.(app);
  // How many operations the gateway sends here: with database_queries_total, what a query plan costs.
  const operations = opts.metrics.counter('subgraph_operations_total', 'GraphQL operations received from the gateway');
  const admission = createAdmission({
    maxInFlight: opts.maxInFlight ?? 128,
    // 200: the gateway reads any other status as a transport failure and would mask the code.
    status: () => 200,
    onRefused: () => opts.metrics.rateLimited.inc({ limit: 'in_flight_process' }),
  });
  app.use(
    '/graphql',
    (_req, _res, next) => {
      operations.inc();
      next();
    },
    admission.middleware,
    express.json({ limit: '2mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const token = req.headers[INTERNAL_HEADER];
        const claims = await opts.internalTokens.verify(typeof token === 'string' ? token : '', opts.name).catch((err: unknown) => {
          opts.metrics.authFailures.inc({ reason: 'internal_token' });
          // The whole request is refused: 401, not the 500 Apollo gives an error without a status.
          throw err instanceof UnauthenticatedError ? err.withHttpStatus(401) : err;
        });
        // Reused tokens carry no request id; the gateway sends it beside them.
        const header = req.headers['x-request-id'];
        const requestId = claims.rid ?? (typeof header === 'string' && header.length > 0 && header.length <= 128 ? header : randomUUID());
        const logger = opts.logger.child({ requestId, tenantId: claims.usr?.tenantId ?? undefined });
        // Trusted beside a verified internal token only: the gateway bounded the name (a known operation, other, anonymous).
        const operation = req.headers[OPERATION_HEADER];
        labelRequestSpan(requestSpan(), { tenantId: claims.usr?.tenantId, operation: typeof operation === 'string' ? operation : null, correlationId: requestId });
        return opts
          .createContext({
            requestId,
            ip: claims.ip,
            userAgent: claims.ua,
            principal: claims.usr,
            tenantHint: claims.th,
            logger,
          })
          .catch((err: unknown) => {
            // The tenant lookup lost its connection: retryable, and answered 200 like every
            // subgraph answer (a 500 would reach the client as a masked internal error).
            if (!isConnectionError(err)) throw err;
            logger.warn({ err: (err as Error).message }, 'database connection lost while building the request context');
            throw new ServiceUnavailableError('The database connection was lost; retry the request').withHttpStatus(200);
          });
      },
    }),
  );
  app.use(jsonErrorHandler((err) => opts.logger.error({ err }, 'unhandled HTTP error')));

  const http = createHttpServer(app);
  return {
    app,
    server: http.server,
    apollo,
    listen: http.listen,
    admission,
    /** Not ready at once, stops accepting, lets requests in flight finish (bounded), then stops. */
    async close(): Promise<void> {
      const cut = await http.drain(opts.shutdownTimeoutMs ?? 0);
      if (cut > 0) opts.logger.warn({ cut }, 'shutdown timeout: requests in flight were cut');
      await apollo.stop();
    },
  };
}
export type SubgraphServer = Awaited<ReturnType<typeof createSubgraphServer>>;

/**
 * `subgraph_request_duration_seconds` by status (ok, error): requests, errors and latency per
 * subgraph (the registry's `service` label names it). No operation label here: the gateway's
 * query plans name their fetches freely; `graphql_request_duration_seconds` at the gateway has the
 * bounded operation names.
 */
function subgraphTiming(metrics: Metrics): ApolloServerPlugin {
  const duration = new Histogram({
    name: 'subgraph_request_duration_seconds',
    help: 'GraphQL requests answered by this subgraph, by status (error: any error in the answer)',
    labelNames: ['status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics.registry],
  });
  return {
    async requestDidStart() {
      const end = duration.startTimer();
      return {
        async willSendResponse({ errors }) {
          end({ status: errors?.length ? 'error' : 'ok' });
        },
      };
    },
  };
}
