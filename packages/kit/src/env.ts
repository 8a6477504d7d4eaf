import { z } from 'zod';
import { parseKeyring } from './field-crypto';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const port = z.coerce.number().int().min(1).max(65535);
/** 0 takes any free port (tests run many platforms side by side). */
const metricsPort = z.coerce.number().int().min(0).max(65535);
const secret = z.string().min(32, 'must be at least 32 characters');

/**
 * `name=postgres://...,name2=postgres://...`: the database servers tenant schemas may live on,
 * beside the primary (DATABASE_URL, always named `primary`). Names match database_servers'
 * connection_ref; the URLs (with their passwords) live only in configuration, never in a table.
 */
export const tenantDatabaseUrls = z
  .string()
  .transform((text, ctx) => {
    const out: Record<string, string> = {};
    for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const eq = part.indexOf('=');
      const name = eq > 0 ? part.slice(0, eq).trim() : '';
      const url = eq > 0 ? part.slice(eq + 1).trim() : '';
      if (!/^[a-z][a-z0-9_]{0,39}$/.test(name) || name === 'primary' || !/^postgres(ql)?:\/\//.test(url) || name in out) {
        ctx.addIssue({ code: 'custom', message: `"${name || part.slice(0, 20)}": expected name=postgres://... (a lowercase name other than primary, each once)` });
        return z.NEVER;
      }
      out[name] = url;
    }
    return out;
  });

/**
 * Tracing's settings, also parsed on their own by `@umi/kit/tracing` before anything else loads
 * (instrumentation must be in place before pg, ioredis and http are required).
 */
export const tracingEnvSchema = z.object({
  /**
   * OpenTelemetry: where spans go over OTLP/HTTP (e.g. http://jaeger:4318; `/v1/traces` is
   * appended). Unset: no tracing SDK is started at all.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL').optional(),
  /** The process's service name in traces; default from its entry point (umi-gateway, umi-pos, umi-relay, ...). */
  OTEL_SERVICE_NAME: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  /** Share of new traces recorded (a trace started upstream keeps its caller's decision). */
  TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
});
export type TracingEnv = z.infer<typeof tracingEnvSchema>;

/** Parses the tracing settings alone; throws {@link EnvError} listing every problem. */
export function loadTracingEnv(source: Record<string, string | undefined> = process.env): TracingEnv {
  const parsed = tracingEnvSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([k, v]) => k in tracingEnvSchema.shape && v)));
  if (!parsed.success) throw new EnvError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parsed.data;
}

/**
 * Every setting of the platform, one schema for all processes (the gateway and each subgraph read
 * the parts they need). This file is the only place that reads `process.env`.
 */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: z.string().url().optional(),
    DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(500).default(10),
    DATABASE_APP_ROLE: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('umi_app'),
    TENANT_CLIENT_CACHE_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
    /** Further PostgreSQL servers for tenant schemas (see tenantDatabaseUrls); DATABASE_POOL_MAX holds per server. */
    TENANT_DATABASE_URLS: tenantDatabaseUrls.default({}),
    REDIS_URL: z.string().url().optional(),
    /** The hot-read caches (L1 in-process, L2 Redis when REDIS_URL is set), with exact invalidation by version. */
    CACHE_ENABLED: bool.default(true),
    /** Longest life of a cache entry whatever the versions say (bounds memory, not correctness). */
    CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    PORT: port.default(4000),
    HOST: z.string().default('0.0.0.0'),
    SUBGRAPH_HOST: z.string().default('127.0.0.1'),
    TENANT_PORT: port.default(4001),
    PHARMACY_PORT: port.default(4002),
    INVENTORY_PORT: port.default(4003),
    POS_PORT: port.default(4004),
    /**
     * Prometheus's /metrics is served on its own port, never on the API's: metrics are for the
     * operator's scraper, and a scrape must not compete with (or be reachable by) API clients.
     * Loopback by default; a container sets 0.0.0.0 and publishes nothing.
     */
    METRICS_HOST: z.string().default('127.0.0.1'),
    METRICS_PORT: metricsPort.default(9400),
    TENANT_METRICS_PORT: metricsPort.default(9401),
    PHARMACY_METRICS_PORT: metricsPort.default(9402),
    INVENTORY_METRICS_PORT: metricsPort.default(9403),
    POS_METRICS_PORT: metricsPort.default(9404),
    RELAY_PORT: port.default(4005),
    /** The fiscal worker process's probes and /metrics (scripts/fiscal-worker.ts; it serves no API). */
    FISCAL_PORT: port.default(4006),
    /** The job runner process's probes and /metrics (scripts/jobs.ts; it serves no API). */
    JOBS_PORT: port.default(4007),
    TENANT_URL: z.string().url().optional(),
    PHARMACY_URL: z.string().url().optional(),
    INVENTORY_URL: z.string().url().optional(),
    POS_URL: z.string().url().optional(),
    SUPERGRAPH_PATH: z.string().optional(),
    JWT_SECRET: secret,
    JWT_ISSUER: z.string().default('umi-health'),
    JWT_AUDIENCE: z.string().default('umi-health-api'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
    REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).max(30 * 86_400).default(86_400),
    /** Lifetime of an API client's access token (client credentials): short, as revocation also ends it. */
    API_CLIENT_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
    INTERNAL_JWT_SECRET: secret,
    INTERNAL_TOKEN_TTL_SECONDS: z.coerce.number().int().min(5).max(300).default(60),
    /** Master keys for sensitive fields at rest, `1:<base64 32 bytes>[,2:...]`; the highest version encrypts. */
    PATIENT_DATA_KEYS: z.string().optional(),
    SUPER_ADMIN_EMAIL: z.string().email().optional(),
    SUPER_ADMIN_PASSWORD: z.string().min(12).optional(),
    BASE_DOMAIN: z.string().default('umihealth.com'),
    CORS_ORIGINS: z.string().default('https://*.umihealth.com,http://localhost:3000'),
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(100),
    RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(20),
    LOGIN_ATTEMPTS_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
    LOGIN_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).default(30),
    LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
    INTROSPECTION: bool.optional(),
    /** GraphiQL on GET /graphql for browsers: on in development and test, off in production unless true. */
    GRAPHIQL: bool.optional(),
    /** Where the bundled browser pages are (GraphiQL, the dashboard): `npm run generate` writes dist/web. */
    WEB_DIST_PATH: z.string().optional(),
    /** The trusted-operations manifest (sha256 -> document); default: the typed client's persisted-documents.json. */
    OPERATIONS_MANIFEST_PATH: z.string().optional(),
    /**
     * Client names (header apollographql-client-name) that may only run operations of the manifest,
     * comma-separated, e.g. umi-admin,umi-cashier,umi-pharmacist,umi-operations,umi-dashboard.
     * Empty: every client may send documents (within the limits).
     */
    MANIFEST_ONLY_CLIENTS: z.string().default(''),
    MAX_DEPTH: z.coerce.number().int().min(2).default(12),
    MAX_COST: z.coerce.number().int().min(10).default(5000),
    MAX_ALIASES: z.coerce.number().int().min(1).default(30),
    MAX_DIRECTIVES: z.coerce.number().int().min(1).default(20),
    MAX_TOKENS: z.coerce.number().int().min(100).default(3000),
    /** graphql-ws: time a client has to send connection_init (then 4408). */
    WS_CONNECTION_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
    /** graphql-ws: events a subscriber may fall behind before the oldest are dropped. */
    WS_QUEUE_SIZE: z.coerce.number().int().min(1).max(100_000).default(256),
    WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(1000).default(20),
    /** graphql-ws: messages a connection may send per minute (burst: the same); beyond, it closes 4429. */
    WS_MAX_MESSAGES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(120),
    /** graphql-ws: sockets one IP may hold open before its connection_init is accepted; beyond, 4429. */
    WS_MAX_UNAUTHENTICATED_PER_IP: z.coerce.number().int().min(1).max(10_000).default(20),
    MAX_ENTITY_REPRESENTATIONS: z.coerce.number().int().min(1).default(1000),
    /** The fiscal worker inside the federation's process (`npm start`, tests); compose runs it as its own process and sets false. */
    FISCAL_WORKER: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    /** How often the fiscal worker looks at the queues (ms). */
    FISCAL_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
    /** First retry delay of a failed VSDC send (ms), doubled per attempt up to FISCAL_RETRY_MAX_MS. */
    FISCAL_RETRY_BASE_MS: z.coerce.number().int().min(10).max(600_000).default(2000),
    FISCAL_RETRY_MAX_MS: z.coerce.number().int().min(10).max(3_600_000).default(300_000),
    /** `npm start`: the VSDC the demo tenant's branches use; without it a VSDC simulator is started for them. */
    DEMO_VSDC_URL: z.string().url().optional(),
    /** Stock movements younger than this wait for the next stock sync (ms). */
    FISCAL_STOCK_SYNC_LAG_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
    /** `npm start`: run the MTN/Airtel (and VSDC) simulators for the demo tenant and point it at them. */
    DEMO_SIMULATORS: bool.default(true),
    /** The scheduled-job runner inside `npm start`'s process (compose and Kubernetes run scripts/jobs.ts and leave it off there). */
    JOBS_RUNNER: bool.default(true),
    /** How often a job runner's workers look for jobs (seconds; pg-boss allows no less than 0.5). */
    JOBS_POLL_SECONDS: z.coerce.number().min(0.5).max(300).default(2),
    /** Jobs of one queue a runner works on at once (each a tenant's run). */
    JOBS_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
    /** The outbox sweep job republishes events still unpublished this long after their commit (s). */
    JOBS_OUTBOX_STUCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    /** Mobile money: the pos process's worker sends requests to pay and polls them (off: another process does). */
    MOMO_WORKER: bool.default(true),
    /** Mobile money: how long a payer has to answer before the attempt EXPIRES and the sale is voided (s). */
    MOMO_PAYMENT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(180),
    /** Mobile money: first status check after sending (ms); each later check waits twice as long, up to MOMO_POLL_MAX_MS. */
    MOMO_POLL_BASE_MS: z.coerce.number().int().min(10).max(600_000).default(5000),
    MOMO_POLL_MAX_MS: z.coerce.number().int().min(10).max(600_000).default(30_000),
    /** Mobile money: how often the worker looks for attempts due (ms). */
    MOMO_WORKER_TICK_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
    /** Mobile money: timeout of one call to a provider (ms). */
    MOMO_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** Mobile money: the platform's public origin that providers call back (e.g. https://api.umihealth.com); a tenant may set its own. */
    MOMO_CALLBACK_BASE_URL: z.string().url().optional(),
    /** Requests a process (gateway or subgraph) works on at once; beyond it, 503 SERVICE_UNAVAILABLE at once. */
    MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(128),
    /** Requests one tenant (or one anonymous IP) has in flight at a gateway; beyond it, 429 TOO_MANY_REQUESTS. */
    MAX_IN_FLIGHT_PER_TENANT: z.coerce.number().int().min(1).max(100_000).default(32),
    /** On SIGTERM, how long requests in flight may take to finish before their connections are cut (ms). */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(8000),
    /** Readiness probes give a dependency this long to answer (ms); a result is reused for a second. */
    READINESS_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1000),
    ...tracingEnvSchema.shape,
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.SUPER_ADMIN_EMAIL) !== Boolean(env.SUPER_ADMIN_PASSWORD)) {
      ctx.addIssue({ code: 'custom', path: ['SUPER_ADMIN_PASSWORD'], message: 'SUPER_ADMIN_EMAIL and SUPER_ADMIN_PASSWORD go together' });
    }
    if (env.PATIENT_DATA_KEYS) {
      try {
        parseKeyring(env.PATIENT_DATA_KEYS);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['PATIENT_DATA_KEYS'], message: (err as Error).message });
      }
    }
    if (env.JWT_SECRET === env.INTERNAL_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['INTERNAL_JWT_SECRET'], message: 'must differ from JWT_SECRET' });
    }
  });

export type Env = z.infer<typeof envSchema>;

/** Thrown with every problem of the environment listed, so an operator fixes them in one go. */
export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n  ${problems.join('\n  ')}`);
  }
}

/** Parses `source` (default `process.env`) once; throws {@link EnvError} listing every problem. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new EnvError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return parsed.data;
}

/** The few settings the migration runner needs: it must run without the services' secrets. */
export const migrationEnvSchema = z.object({
  DATABASE_URL: z.string().url(),
  DATABASE_APP_ROLE: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('umi_app'),
  TENANT_DATABASE_URLS: tenantDatabaseUrls.default({}),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Parses the migration runner's settings; throws {@link EnvError} listing every problem. */
export function loadMigrationEnv(source: Record<string, string | undefined> = process.env): z.infer<typeof migrationEnvSchema> {
  const parsed = migrationEnvSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v)));
  if (!parsed.success) throw new EnvError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parsed.data;
}

/** Introspection is a partner feature in development and test, off in production unless asked. */
export function introspectionEnabled(env: Env): boolean {
  return env.INTROSPECTION ?? env.NODE_ENV !== 'production';
}

/** GraphiQL is a development tool: off in production unless GRAPHIQL=true. */
export function graphiqlEnabled(env: Env): boolean {
  return env.GRAPHIQL ?? env.NODE_ENV !== 'production';
}

export type SubgraphName = 'tenant' | 'pharmacy' | 'inventory' | 'pos';
export const SUBGRAPHS: readonly SubgraphName[] = ['tenant', 'pharmacy', 'inventory', 'pos'];

/** Port a subgraph listens on. */
export function subgraphPort(env: Env, name: SubgraphName): number {
  return { tenant: env.TENANT_PORT, pharmacy: env.PHARMACY_PORT, inventory: env.INVENTORY_PORT, pos: env.POS_PORT }[name];
}

/** Port a subgraph serves /metrics on (0: any free one). */
export function subgraphMetricsPort(env: Env, name: SubgraphName): number {
  return { tenant: env.TENANT_METRICS_PORT, pharmacy: env.PHARMACY_METRICS_PORT, inventory: env.INVENTORY_METRICS_PORT, pos: env.POS_METRICS_PORT }[name];
}

/** URL the gateway routes a subgraph's requests to. */
export function subgraphUrl(env: Env, name: SubgraphName): string {
  const explicit = { tenant: env.TENANT_URL, pharmacy: env.PHARMACY_URL, inventory: env.INVENTORY_URL, pos: env.POS_URL }[name];
  return explicit ?? `http://127.0.0.1:${subgraphPort(env, name)}/graphql`;
}
