import {
  createAccessTokens,
  createInternalTokens,
  createLogger,
  createMetrics,
  createRedis,
  type AccessTokens,
  type Env,
  type Logger,
  type InternalTokens,
  type Metrics,
  type SubgraphName,
} from '@umi/kit';
import {
  createAppPool,
  createReadinessProbe,
  createCache,
  createBranchDirectory,
  createSharedClient,
  createTenantDirectory,
  ServerPools,
  serverUrls,
  TENANT_DIRECTORY_CHANNEL,
  TenantRouter,
  type BranchDirectory,
  type Cache,
  type Scope,
  type SharedDb,
  type TenantDb,
  type TenantDirectory,
  type TenantRecord,
} from '@umi/db';

/**
 * The data access a subgraph process hands out: views bound to one tenant's schema or to one
 * row-level-security scope of the shared schema. The pool and the raw clients stay inside.
 */
export interface DataAccess {
  /** The tenant's schema, as a request of that tenant sees it. */
  tenantDb(tenant: TenantRecord): TenantDb;
  /** The shared schema under `scope`; `tenant` binds tagged SQL's tenant tables (audit rows). */
  shared(scope: Scope, tenant: TenantRecord | null): SharedDb;
  /** Resolves when PostgreSQL answers on the readiness connection, not the request pool (readiness). */
  ping(): Promise<void>;
}

/** What every subgraph process holds: one pool (the connection budget), clients, tokens, telemetry. */
export interface SubgraphRuntime {
  name: SubgraphName;
  env: Env;
  logger: Logger;
  metrics: Metrics;
  data: DataAccess;
  directory: TenantDirectory;
  /** Branches per tenant, to check every branch id a client sends. */
  branches: BranchDirectory;
  accessTokens: AccessTokens;
  internalTokens: InternalTokens;
  /** The hot-read caches; null when CACHE_ENABLED is off (every read goes to PostgreSQL). */
  cache: Cache | null;
  close(): Promise<void>;
}

/** Builds a subgraph's runtime from the parsed environment. */
export function createSubgraphRuntime(env: Env, name: SubgraphName, logger?: Logger): SubgraphRuntime {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  const log = logger ?? createLogger(name, env.LOG_LEVEL);
  const metrics = createMetrics(name);
  // Counted per connection so that tests and dashboards see how many statements a request costs.
  const queries = metrics.counter('database_queries_total', 'SQL statements sent to PostgreSQL');
  const countQueries = (pool: ReturnType<typeof createAppPool>) =>
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        if (!metrics.inScrape()) queries.inc();
        return query(...args);
      };
    });
  const appPool = createAppPool(env.DATABASE_URL, env.DATABASE_POOL_MAX, env.DATABASE_APP_ROLE);
  countQueries(appPool);
  // The same budget on every further server, each pool opened when a tenant there is first served.
  const pools = new ServerPools(
    serverUrls(env.DATABASE_URL, env.TENANT_DATABASE_URLS),
    (url) => countQueries(createAppPool(url, env.DATABASE_POOL_MAX, env.DATABASE_APP_ROLE)),
    appPool,
  );
  // Readiness on its own connection: a saturated request pool must not read as a database down.
  const readiness = createReadinessProbe(env.DATABASE_URL, env.DATABASE_APP_ROLE, env.READINESS_TIMEOUT_MS);
  const shared = createSharedClient(appPool);
  const tenants = new TenantRouter(pools, env.TENANT_CLIENT_CACHE_SIZE);
  metrics.pool(appPool);
  const held = () => {
    let n = 0;
    for (const p of pools.opened().values()) n += p.totalCount - p.idleCount;
    return n;
  };
  metrics.gauge('database_connections_active', 'Connections held by this process, over every database server', held);
  // Its own connection with a short command timeout: a stalled Redis must cost a read milliseconds, not seconds.
  let closing = false;
  const cacheRedis = env.CACHE_ENABLED && env.REDIS_URL ? createRedis(env.REDIS_URL, log, { commandTimeout: 500, maxRetriesPerRequest: 0 }) : null;
  const cache = env.CACHE_ENABLED
    ? createCache({
        redis: cacheRedis,
        registry: metrics.registry,
        ttlMs: env.CACHE_TTL_SECONDS * 1000,
        onError: (err, what) => !closing && log.warn({ err: (err as Error).message, what }, 'cache bypassed until redis is back'),
      })
    : null;
  metrics.gauge('tenant_clients_cached', 'Tenant schemas in the client cache (views; their Prisma clients are built on first model use)', () => tenants.stats().cached);
  metrics.gauge('tenant_prisma_clients_built', 'Tenant Prisma clients built since start (requests that only run tagged SQL build none)', () => tenants.stats().prismaClients);
  const directory = createTenantDirectory(shared);
  // With several servers a tenant may move: its new place must be seen at once, not within the
  // directory's TTL (the move's table locks keep data exact meanwhile; this keeps retries short).
  const directoryRedis = Object.keys(env.TENANT_DATABASE_URLS).length > 0 && env.REDIS_URL ? createRedis(env.REDIS_URL, log) : null;
  if (directoryRedis) {
    directoryRedis.on('message', (_channel: string, id: string) => directory.forgetTenant(id));
    // On every (re)connection: the client queues nothing while offline. Messages missed while
    // Redis was away are covered by the directory's TTL.
    directoryRedis.on('ready', () => {
      void directoryRedis.subscribe(TENANT_DIRECTORY_CHANNEL).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'tenant directory invalidations unavailable; moves are seen within the directory TTL'));
    });
  }
  return {
    name,
    env,
    logger: log,
    metrics,
    data: {
      tenantDb: (tenant) => tenants.db(tenant),
      shared: (scope, tenant) => tenants.shared(shared, scope, tenant),
      ping: () => readiness.check(),
    },
    directory,
    branches: createBranchDirectory(shared),
    accessTokens: createAccessTokens({ secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS }),
    internalTokens: createInternalTokens(env.INTERNAL_JWT_SECRET, env.INTERNAL_TOKEN_TTL_SECONDS),
    cache,
    async close() {
      await readiness.close();
      closing = true;
      cacheRedis?.disconnect();
      directoryRedis?.disconnect();
      await tenants.close();
      await shared.$disconnect();
      await pools.close();
    },
  };
}
