import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { ApolloServer } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  getOperationAST,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type ExecutionResult,
  type FieldNode,
  type GraphQLSchema,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import { scopeError, scopeViolations } from '../scopes';
import { AppError, canViewBranch, introspectionEnabled, withoutSuggestions, type Logger, type Metrics, type Principal } from '@umi/kit';
import { POSITION, type EventBus } from '@umi/events/bus';
import type { Authentication, Authenticator } from '../auth';
import type { GatewayContext } from '../context';
import { checkTokenLimit, limitRules } from '../limits';
import { EventHub } from './hub';
import { buildFetchPlan, KEY_VARIABLE, ROUTES, type RouteName } from './plan';
import type { Env } from '@umi/kit';

export interface SubscriptionDeps {
  env: Env;
  logger: Logger;
  metrics: Metrics;
  /** The gateway's one authentication, shared with HTTP; connecting and subscribing each spend a token of the user's bucket. */
  auth: Authenticator;
  bus: EventBus;
  apollo: ApolloServer<GatewayContext>;
  /** The API schema, once the gateway has loaded the supergraph. */
  schema: () => GraphQLSchema;
}

interface Connection {
  principal: Principal;
  ip: string | null;
  expiry: NodeJS.Timeout;
  subscriptions: number;
}

const error = (message: string, code: string) => new GraphQLError(message, { extensions: { code } });

/**
 * How a refused connection closes. FORBIDDEN has no entry: `onConnect` returning false is
 * graphql-ws's own 4403.
 */
const CLOSE: Record<string, [code: number, reason: string]> = {
  UNAUTHENTICATED: [CloseCode.Unauthorized, 'Unauthorized'],
  TOO_MANY_REQUESTS: [CloseCode.TooManyInitialisationRequests, 'Too many requests'],
};

/**
 * Limits that hold before graphql-ws sees a socket: at most WS_MAX_UNAUTHENTICATED_PER_IP sockets
 * of one IP waiting for their connection_init to be accepted (a client cannot hold hundreds of
 * handshakes open for free), and WS_MAX_MESSAGES_PER_MINUTE messages per connection (a token
 * bucket; every message is parsed). Either closes 4429. `release` marks a socket authenticated.
 */
function guardSockets(wss: WebSocketServer, env: Env, metrics: Metrics) {
  const waiting = new Map<string, number>();
  const pendingIp = new WeakMap<WebSocket, string>();
  const rejected = metrics.counter('ws_connections_refused_total', 'graphql-ws sockets closed by the per-IP handshake or per-connection message limits');
  const release = (socket: WebSocket) => {
    const ip = pendingIp.get(socket);
    if (ip === undefined) return;
    pendingIp.delete(socket);
    const left = (waiting.get(ip) ?? 1) - 1;
    if (left <= 0) waiting.delete(ip);
    else waiting.set(ip, left);
  };
  wss.on('connection', (socket, request) => {
    const ip = request.socket.remoteAddress ?? 'unknown';
    const held = waiting.get(ip) ?? 0;
    if (held >= env.WS_MAX_UNAUTHENTICATED_PER_IP) {
      rejected.inc();
      socket.close(CloseCode.TooManyInitialisationRequests, 'Too many pending connections');
      return;
    }
    waiting.set(ip, held + 1);
    pendingIp.set(socket, ip);
    socket.once('close', () => release(socket));
    const capacity = env.WS_MAX_MESSAGES_PER_MINUTE;
    const perMs = capacity / 60_000;
    let tokens = capacity;
    let at = Date.now();
    socket.on('message', () => {
      const now = Date.now();
      tokens = Math.min(capacity, tokens + (now - at) * perMs);
      at = now;
      tokens -= 1;
      if (tokens < 0 && socket.readyState === WebSocket.OPEN) {
        rejected.inc();
        socket.close(CloseCode.TooManyInitialisationRequests, 'Too many messages');
      }
    });
  });
  return { release };
}

/** The caller as the gateway context knows it, for fetching event payloads on their behalf. */
function contextFor(principal: Principal, logger: Logger): GatewayContext {
  const requestId = randomUUID();
  return {
    requestId,
    principal,
    tenantHint: principal.tenantId,
    ip: null,
    userAgent: 'graphql-ws',
    logger: logger.child({ requestId, tenantId: principal.tenantId ?? undefined, userId: principal.userId }),
    internalTokens: new Map(),
  };
}

/**
 * GraphQL over WebSocket (graphql-ws) on the gateway's own port and path. Only subscriptions are
 * accepted, with the same validation and limits as HTTP. The token comes in connectionParams and
 * is checked before anything else: missing or invalid closes 4401, no tenant (or another tenant's
 * host) 4403, no connection_init in time 4408, over the user's rate limit 4429; the socket closes
 * 4401 when the token expires.
 */
export function attachSubscriptions(server: http.Server, deps: SubscriptionDeps) {
  const { env, logger, metrics } = deps;
  const counter = (name: string, help: string) => metrics.counter(name, help);
  const hub = new EventHub(
    deps.bus,
    async (principal, plan, key) => {
      const res = await deps.apollo.executeOperation(
        { query: plan.query, variables: { ...plan.variables, [KEY_VARIABLE]: key } },
        { contextValue: contextFor(principal, logger) },
      );
      return res.body.kind === 'single' ? (res.body.singleResult as ExecutionResult) : { errors: [error('Incremental delivery is not supported here', 'BAD_REQUEST')] };
    },
    {
      delivered: counter('subscription_events_delivered_total', 'Events queued to subscribers'),
      dropped: counter('subscription_events_dropped_total', 'Events dropped because a subscriber fell too far behind'),
      fetches: counter('subscription_payload_fetches_total', 'Payload fetches (one per event, selection shape and access)'),
      unresolved: counter('subscription_events_unresolved_total', 'Events whose entity could not be fetched for a subscriber'),
    },
    logger,
    env.WS_QUEUE_SIZE,
  );
  const connections = new WeakMap<object, Connection>();
  let open = 0;
  metrics.gauge('ws_connections', 'Open graphql-ws connections', () => open);
  metrics.gauge('ws_subscriptions', 'Live subscriptions', () => hub.subscriptionCount);
  const rules = [...specifiedRules, ...limitRules(env), ...(introspectionEnabled(env) ? [] : [NoSchemaIntrospectionCustomRule])];

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 256 * 1024 });
  // Registered before graphql-ws's own handler, so these limits see every socket and message first.
  const pending = guardSockets(wss, env, metrics);
  const disposable = useServer<Record<string, unknown>, { socket: WebSocket; request: http.IncomingMessage }>(
    {
      connectionInitWaitTimeout: env.WS_CONNECTION_INIT_TIMEOUT_MS,
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        let caller: Authentication<'ws'>;
        try {
          caller = await deps.auth.authenticate({
            transport: 'ws',
            authorization: ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization,
            host: request.headers.host,
            requestIdHeader: request.headers['x-request-id'],
            ip: request.socket.remoteAddress ?? null,
            userAgent: request.headers['user-agent'],
          });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const close = CLOSE[String(err.extensions.code)];
          if (close) socket.close(...close);
          return false;
        }
        const { principal, expiresAt, ip } = caller;
        const expiry = setTimeout(() => socket.close(CloseCode.Unauthorized, 'Token expired'), Math.max(0, expiresAt * 1000 - Date.now()));
        expiry.unref();
        connections.set(ctx, { principal, ip, expiry, subscriptions: 0 });
        pending.release(socket);
        open += 1;
        return true;
      },
      onClose: (ctx) => {
        const conn = connections.get(ctx);
        if (conn) {
          clearTimeout(conn.expiry);
          connections.delete(ctx);
          open -= 1;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const conn = connections.get(ctx);
        if (!conn) return [error('Not connected', 'UNAUTHENTICATED')];
        // A socket closed for flooding still has this message handed over: do no work for it.
        if (ctx.extra.socket.readyState !== WebSocket.OPEN) return [error('Connection closing', 'TOO_MANY_REQUESTS')];
        // Paid before the document is lexed, parsed or validated: that work is what a flood costs us.
        if (!(await deps.auth.charge(conn, 'ws_subscribe')).allowed) return [error('Too many requests', 'TOO_MANY_REQUESTS')];
        if (conn.subscriptions >= env.WS_MAX_SUBSCRIPTIONS) return [error(`At most ${env.WS_MAX_SUBSCRIPTIONS} subscriptions per connection`, 'TOO_MANY_REQUESTS')];
        const tooLong = checkTokenLimit(payload.query, env.MAX_TOKENS);
        if (tooLong) return [tooLong];
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : error('Syntax error', 'GRAPHQL_PARSE_FAILED')];
        }
        const schema = deps.schema();
        const op = getOperationAST(document, payload.operationName);
        if (!op) return [error('No operation to run', 'BAD_USER_INPUT')];
        if (op.operation !== 'subscription') return [error('Only subscriptions are accepted over WebSocket; send queries and mutations over HTTP', 'BAD_USER_INPUT')];
        const invalid = validate(schema, document, rules);
        if (invalid.length > 0) return invalid.map((e) => new GraphQLError(withoutSuggestions(e.message), { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
        if (conn.principal.scopes) {
          const refused = scopeViolations(schema, document, conn.principal.scopes);
          if (refused.length) return [scopeError(refused)];
        }
        const [root, ...more] = op.selectionSet.selections;
        if (root?.kind !== Kind.FIELD || more.length > 0) {
          return [error('A subscription selects exactly one field at its root, not a fragment', 'BAD_USER_INPUT')];
        }
        const field: FieldNode = root;
        const route = field.name.value as RouteName;
        if (!(route in ROUTES)) return [error(`${route} is not a subscription this gateway serves`, 'BAD_USER_INPUT')];
        const coerced = getVariableValues(schema, op.variableDefinitions ?? [], payload.variables ?? {});
        if (coerced.errors) return coerced.errors.map((e) => new GraphQLError(withoutSuggestions(e.message), { extensions: { code: 'BAD_USER_INPUT' } }));
        const argument = (name: string): string | null => {
          const arg = field.arguments?.find((a) => a.name.value === name);
          if (!arg) return null;
          const v = arg.value;
          const value = v.kind === 'Variable' ? coerced.coerced[v.name.value] : v.kind === 'StringValue' ? v.value : null;
          return typeof value === 'string' ? value : null;
        };
        const branchId = argument('branchId')?.toLowerCase() ?? null;
        const after = argument('after');
        if (after !== null && !POSITION.test(after)) return [error('after: not an event id (extensions.eventId of a payload received)', 'BAD_USER_INPUT')];
        const principal = conn.principal;
        if (branchId) {
          if (!canViewBranch(principal, branchId)) return [error('No access to this branch', 'FORBIDDEN')];
          // Another tenant's branch (or none) is not found, as over HTTP.
          const found = await deps.apollo.executeOperation({ query: 'query($id: ID!) { branch(id: $id) { id } }', variables: { id: branchId } }, { contextValue: contextFor(principal, logger) });
          const data = found.body.kind === 'single' ? (found.body.singleResult.data as { branch?: unknown } | null | undefined) : null;
          if (!data?.branch) return [error('Branch not found', 'NOT_FOUND')];
        }
        const plan = buildFetchPlan(document, op, field, route, coerced.coerced);
        conn.subscriptions += 1;
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: coerced.coerced,
          contextValue: { subscriber: { tenantId: principal.tenantId!, route, branchId, principal, plan, after }, conn },
        };
      },
      subscribe: (args) => {
        const { subscriber, conn } = args.contextValue as { subscriber: Parameters<EventHub['subscribe']>[0]; conn: Connection };
        // The connection's count drops when this subscription ends, however it ends.
        return hub.subscribe(subscriber, () => {
          conn.subscriptions -= 1;
        });
      },
      execute: () => ({ errors: [error('Only subscriptions are accepted over WebSocket', 'BAD_USER_INPUT')] }),
    },
    wss,
  );

  return {
    hub,
    async close(): Promise<void> {
      hub.close();
      for (const client of wss.clients) client.close(1001, 'Server going away');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
