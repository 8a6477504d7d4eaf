import { createLogger, createMetrics, type Env, type Logger } from '@umi/kit';
import { createAppPool } from '@umi/db';
import { startFiscalWorker } from '@umi/subgraph-pos';

/**
 * The fiscal worker as a process (docker compose runs one; `npm start` and the tests run it inside
 * the federation's process unless FISCAL_WORKER=false). Several may run: a device's queue is sent
 * by one of them at a time (advisory lock per branch device).
 */
export async function startFiscalWorkerProcess(env: Env, logger: Logger = createLogger('fiscal', env.LOG_LEVEL)) {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  const pool = createAppPool(env.DATABASE_URL, 4, env.DATABASE_APP_ROLE);
  const metrics = createMetrics('fiscal');
  const worker = startFiscalWorker({
    pool,
    logger,
    registry: metrics.registry,
    pollMs: env.FISCAL_POLL_MS,
    retryBaseMs: env.FISCAL_RETRY_BASE_MS,
    retryMaxMs: env.FISCAL_RETRY_MAX_MS,
    stockSyncLagMs: env.FISCAL_STOCK_SYNC_LAG_MS,
  });
  metrics.pool(pool);
  logger.info('fiscal worker running');
  return {
    worker,
    metrics,
    async close() {
      await worker.stop();
      await pool.end();
    },
  };
}
