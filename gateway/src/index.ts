// First: tracing (when configured) must patch http, pg and ioredis before they load.
import '@umi/kit/tracing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createAccessTokens,
  createInternalTokens,
  createLogger,
  createMemoryBucket,
  createMetrics,
  createRedis,
  createRedisBucket,
  loadEnv,
  type Env,
  type Logger,
  runMain,
  startMetricsServer,
} from '@umi/kit';
import { createRedisBus, sharedMemoryBus } from '@umi/events/bus';
import { createGateway } from './gateway';

export const DEFAULT_SUPERGRAPH = join(__dirname, '..', '..', 'supergraph.graphql');

/** Starts the gateway; resolves with its port once it listens. */
export async function main(env: Env = loadEnv(), logger: Logger = createLogger('gateway', env.LOG_LEVEL)) {
  const metrics = createMetrics('gateway');
  const shape = { capacity: env.RATE_LIMIT_BURST, perMinute: env.RATE_LIMIT_PER_MINUTE };
  const redis = env.REDIS_URL ? createRedis(env.REDIS_URL, logger) : null;
  // Stream reads block: they get a connection of their own.
  const reader = env.REDIS_URL ? createRedis(env.REDIS_URL, logger) : null;
  const bus =
    redis && reader
      ? createRedisBus(redis, reader, { logger, onError: (err) => logger.debug({ err: (err as Error).message }, 'event bus read failed; retrying') })
      : sharedMemoryBus();
  const gateway = await createGateway({
    env,
    logger,
    metrics,
    accessTokens: createAccessTokens({ secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS }),
    internalTokens: createInternalTokens(env.INTERNAL_JWT_SECRET, env.INTERNAL_TOKEN_TTL_SECONDS),
    rateLimit: redis ? createRedisBucket(redis, 'umi:rl:req', shape, logger) : createMemoryBucket(shape),
    supergraphSdl: readFileSync(env.SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH, 'utf8'),
    bus,
  });
  const port = await gateway.listen(env.PORT, env.HOST);
  const metricsServer = await startMetricsServer(metrics, env.METRICS_PORT, env.METRICS_HOST);
  logger.info({ port, metricsPort: metricsServer.port }, 'gateway listening');
  return {
    port,
    metricsPort: metricsServer.port,
    async close() {
      await metricsServer.close();
      await gateway.close();
      if (reader) await bus.close();
      reader?.disconnect();
      redis?.disconnect();
    },
  };
}

if (require.main === module) runMain(() => main());
