// First: tracing (when configured) must patch http, pg and ioredis before they load.
import '@umi/kit/tracing';
import { join } from 'node:path';
import { createMemoryBucket, createRedis, createRedisBucket, runMain } from '@umi/kit';
import { createTenantProvisioner, sharedTables, sql } from '@umi/db';
import { defineSubgraph, type SubgraphRuntime } from '@umi/subgraph';
import type { TenantDeps } from './context';
import { createLoaders, type Loaders } from './loaders';
import { permissions } from './policy';
import { resolvers } from './resolvers';
import { ensureSuperAdmin } from './services/super-admin';
import { createUserDirectory } from './user-directory';

/** Login limits (shared through Redis when there is one), the tenant provisioner, the user directory. */
function dependencies({ env, logger, metrics, data }: SubgraphRuntime) {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  // The design document's platform gauges, counted at scrape time by one query each: the shared
  // schema is small (a row per tenant, per branch), and a count kept in memory would drift across
  // the processes that create tenants and branches.
  const count = (query: ReturnType<typeof sql>) =>
    data.shared({ kind: 'platform' }, null).transaction(async (tx) => Number((await tx.sql.one<{ n: string }>(query)).n));
  metrics.gauge('tenants_active_total', 'Tenants whose status is active (not suspended or deleted)', () =>
    count(sql`SELECT count(*)::text AS n FROM ${sharedTables.tenants} WHERE status = 'active' AND deleted_at IS NULL`),
  );
  metrics.gauge('branches_active_total', 'Active branches of active tenants', () =>
    count(
      sql`SELECT count(*)::text AS n FROM ${sharedTables.branches} b JOIN ${sharedTables.tenants} t ON t.id = b.tenant_id
          WHERE b.is_active AND b.deleted_at IS NULL AND t.status = 'active' AND t.deleted_at IS NULL`,
    ),
  );
  const perAccount = { capacity: env.LOGIN_ATTEMPTS_PER_ACCOUNT, perMinute: (env.LOGIN_ATTEMPTS_PER_ACCOUNT * 60) / env.LOGIN_WINDOW_SECONDS };
  const perIp = { capacity: env.LOGIN_ATTEMPTS_PER_IP, perMinute: (env.LOGIN_ATTEMPTS_PER_IP * 60) / env.LOGIN_WINDOW_SECONDS };
  const redis = env.REDIS_URL ? createRedis(env.REDIS_URL, logger) : null;
  const provisioner = createTenantProvisioner(env.DATABASE_URL, env.DATABASE_APP_ROLE, 4, env.TENANT_DATABASE_URLS);
  return {
    loginPerAccount: redis ? createRedisBucket(redis, 'umi:login:acct', perAccount, logger) : createMemoryBucket(perAccount),
    loginPerIp: redis ? createRedisBucket(redis, 'umi:login:ip', perIp, logger) : createMemoryBucket(perIp),
    provisioner,
    users: createUserDirectory(),
    async close() {
      redis?.disconnect();
      await provisioner.close();
    },
  };
}

/** The tenant subgraph: tenants, plans, branches, users, sign-in and the audit trail. */
export const tenant = defineSubgraph<TenantDeps, Loaders>({
  name: 'tenant',
  schemaFile: join(__dirname, '..', 'schema.graphql'),
  resolvers,
  policy: permissions,
  loaders: createLoaders,
  dependencies,
  onStart: ensureSuperAdmin,
});

if (require.main === module) runMain(() => tenant.main());
export { archiveAuditLogs } from './jobs/audit-archive';
