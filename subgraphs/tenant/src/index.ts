import { join } from 'node:path';
import { createMemoryBucket, createRedis, createRedisBucket, runMain } from '@umi/kit';
import { createTenantProvisioner } from '@umi/db';
import { defineSubgraph, type SubgraphRuntime } from '@umi/subgraph';
import type { TenantDeps } from './context';
import { createLoaders, type Loaders } from './loaders';
import { permissions } from './policy';
import { resolvers } from './resolvers';
import { ensureSuperAdmin } from './services/super-admin';
import { createUserDirectory } from './user-directory';

/** Login limits (shared through Redis when there is one), the tenant provisioner, the user directory. */
function dependencies({ env, logger }: SubgraphRuntime) {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  const perAccount = { capacity: env.LOGIN_ATTEMPTS_PER_ACCOUNT, perMinute: (env.LOGIN_ATTEMPTS_PER_ACCOUNT * 60) / env.LOGIN_WINDOW_SECONDS };
  const perIp = { capacity: env.LOGIN_ATTEMPTS_PER_IP, perMinute: (env.LOGIN_ATTEMPTS_PER_IP * 60) / env.LOGIN_WINDOW_SECONDS };
  const redis = env.REDIS_URL ? createRedis(env.REDIS_URL, logger) : null;
  const provisioner = createTenantProvisioner(env.DATABASE_URL, env.DATABASE_APP_ROLE);
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
