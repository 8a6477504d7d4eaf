import type { Pool } from 'pg';
import {
  createAccessTokens,
  createInternalTokens,
  createLogger,
  createMetrics,
  type AccessTokens,
  type Env,
  type InternalTokens,
  type Logger,
  type Metrics,
} from '@umi/kit';
import { createAppPool } from './pools';
import { createSharedClient, type SharedClient } from './shared-db';
import { TenantClients } from './tenant-clients';
import { createTenantDirectory, type TenantDirectory } from './tenant-directory';
import { createBranchDirectory, type BranchDirectory } from './branch-directory';

/** What every subgraph process holds: one pool (the connection budget), clients, tokens, telemetry. */
export interface SubgraphRuntime {
  env: Env;
  logger: Logger;
  metrics: Metrics;
  appPool: Pool;
  shared: SharedClient;
  tenants: TenantClients;
  directory: TenantDirectory;
  /** Branches per tenant, to check every branch id a client sends. */
  branches: BranchDirectory;
  accessTokens: AccessTokens;
  internalTokens: InternalTokens;
  close(): Promise<void>;
}

/** Builds a subgraph's runtime from the parsed environment. */
export function createSubgraphRuntime(env: Env, service: string, logger?: Logger): SubgraphRuntime {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  const log = logger ?? createLogger(service, env.LOG_LEVEL);
  const metrics = createMetrics(service);
  const appPool = createAppPool(env.DATABASE_URL, env.DATABASE_POOL_MAX, env.DATABASE_APP_ROLE);
  const shared = createSharedClient(appPool);
  const tenants = new TenantClients(appPool, env.TENANT_CLIENT_CACHE_SIZE);
  metrics.gauge('database_connections_active', 'Connections held by this process', () => appPool.totalCount - appPool.idleCount);
  // Counted per connection so that tests and dashboards see how many statements a request costs.
  const queries = metrics.counter('database_queries_total', 'SQL statements sent to PostgreSQL');
  appPool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      queries.inc();
      return query(...args);
    };
  });
  metrics.gauge('tenant_clients_cached', 'Tenant Prisma clients in the cache', () => tenants.stats().cached);
  return {
    env,
    logger: log,
    metrics,
    appPool,
    shared,
    tenants,
    directory: createTenantDirectory(shared),
    branches: createBranchDirectory(shared),
    accessTokens: createAccessTokens({ secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS }),
    internalTokens: createInternalTokens(env.INTERNAL_JWT_SECRET, env.INTERNAL_TOKEN_TTL_SECONDS),
    async close() {
      await tenants.close();
      await shared.$disconnect();
      await appPool.end();
    },
  };
}
