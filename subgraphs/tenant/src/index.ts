import { createLogger, createMemoryBucket, createRedis, createRedisBucket, loadEnv, subgraphPort, type Env, type Logger, runMain } from '@umi/kit';
import { createOwnerPool, createSubgraphRuntime } from '@umi/db';
import type { TenantDeps } from './deps';
import { createServer } from './server';
import { ensureSuperAdmin } from './services/super-admin';

/** Builds the tenant subgraph's dependencies; tests call it with their own environment. */
export function createTenantDeps(env: Env, logger?: Logger): TenantDeps & { close(): Promise<void> } {
  const runtime = createSubgraphRuntime(env, 'tenant', logger);
  const ownerPool = createOwnerPool(env.DATABASE_URL!);
  const perAccount = { capacity: env.LOGIN_ATTEMPTS_PER_ACCOUNT, perMinute: (env.LOGIN_ATTEMPTS_PER_ACCOUNT * 60) / env.LOGIN_WINDOW_SECONDS };
  const perIp = { capacity: env.LOGIN_ATTEMPTS_PER_IP, perMinute: (env.LOGIN_ATTEMPTS_PER_IP * 60) / env.LOGIN_WINDOW_SECONDS };
  const redis = env.REDIS_URL ? createRedis(env.REDIS_URL, runtime.logger) : null;
  return {
    ...runtime,
    ownerPool,
    loginPerAccount: redis ? createRedisBucket(redis, 'umi:login:acct', perAccount, runtime.logger) : createMemoryBucket(perAccount),
    loginPerIp: redis ? createRedisBucket(redis, 'umi:login:ip', perIp, runtime.logger) : createMemoryBucket(perIp),
    async close() {
      redis?.disconnect();
      await ownerPool.end();
      await runtime.close();
    },
  };
}

/** Starts the tenant subgraph on its port; resolves once it listens. */
export async function main(env: Env = loadEnv()) {
  const logger = createLogger('tenant', env.LOG_LEVEL);
  const deps = createTenantDeps(env, logger);
  await ensureSuperAdmin(deps);
  const server = await createServer(deps);
  const port = await server.listen(subgraphPort(env, 'tenant'), env.SUBGRAPH_HOST);
  logger.info({ port }, 'tenant subgraph listening');
  return {
    port,
    async close() {
      await server.close();
      await deps.close();
    },
  };
}

if (require.main === module) runMain(() => main());
