import { createLogger, createMetrics, createRedis, type Env, type Logger } from '@umi/kit';
import { createAppPool, ServerPools, serverUrls } from '@umi/db';
import { createRedisBus, sharedMemoryBus, startRelay } from '@umi/events';

/**
 * The outbox relay as a process (docker compose runs one; `npm start` and the tests run it inside
 * the federation's process). Without REDIS_URL it publishes to the in-process bus, which only a
 * gateway in the same process can hear.
 */
export async function startRelayProcess(env: Env, logger: Logger = createLogger('relay', env.LOG_LEVEL)) {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  const pool = createAppPool(env.DATABASE_URL, 3, env.DATABASE_APP_ROLE);
  const redis = env.REDIS_URL ? createRedis(env.REDIS_URL, logger) : null;
  const bus = redis ? createRedisBus(redis, redis, { logger }) : sharedMemoryBus();
  const metrics = createMetrics('relay');
  const relayMetrics = {
    published: metrics.counter('outbox_events_published_total', 'Outbox events published to the bus'),
    failures: metrics.counter('outbox_relay_failures_total', 'Relay cycles that failed (bus or database away) and will retry'),
  };
  // Each PostgreSQL server notifies and sweeps its own tenants' outboxes: with tenants placed on
  // several (TENANT_DATABASE_URLS), one relay per server, listing its tenants on the primary.
  const urls = serverUrls(env.DATABASE_URL, env.TENANT_DATABASE_URLS);
  const pools = new ServerPools(urls, (url) => createAppPool(url, 3, env.DATABASE_APP_ROLE), pool);
  const relays = urls.size === 1
    ? [startRelay({ pool, bus, logger, metrics: relayMetrics })]
    : [...urls.keys()].map((server) =>
        startRelay({ pool: pools.pool(server), placement: { server, sharedPool: pool }, bus, logger: logger.child({ server }), metrics: relayMetrics }),
      );
  metrics.pool(pool);
  const relay = {
    ready: Promise.all(relays.map((r) => r.ready)),
    lagSeconds: async () => Math.max(0, ...(await Promise.all(relays.map((r) => r.lagSeconds())))),
    flush: () => Promise.all(relays.map((r) => r.flush())).then(() => undefined),
    stop: async () => {
      await Promise.all(relays.map((r) => r.stop()));
    },
  };
  metrics.gauge('outbox_relay_lag_seconds', 'Age of the oldest committed outbox event not yet published, over every tenant (0 when none)', () => relay.lagSeconds());
  await relay.ready;
  logger.info({ bus: redis ? 'redis' : 'memory' }, 'outbox relay running');
  return {
    relay,
    metrics,
    async close() {
      await relay.stop();
      redis?.disconnect();
      await pools.close();
    },
  };
}
