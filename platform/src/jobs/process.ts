import { createLogger, createRedis, type Env, type Logger } from '@umi/kit';
import { createRedisBus, sharedMemoryBus } from '@umi/events';
import { startJobRunner } from './runner';

/**
 * The job runner as a process (scripts/jobs.ts; docker compose and Kubernetes run it) or inside
 * `npm start`'s process (`inProcess`). The outbox sweep republishes to Redis when REDIS_URL is set;
 * without it, only inside `npm start` (the in-process bus its gateway hears): a runner of its own
 * with no Redis has nobody to publish to, and its sweep skips.
 */
export async function startJobRunnerProcess(env: Env, opts: { inProcess?: boolean; logger?: Logger } = {}) {
  const logger = opts.logger ?? createLogger('jobs', env.LOG_LEVEL);
  const redis = env.REDIS_URL ? createRedis(env.REDIS_URL, logger) : null;
  const bus = redis ? createRedisBus(redis, redis, { logger }) : opts.inProcess ? sharedMemoryBus() : null;
  try {
    const runner = await startJobRunner({ env, logger, bus });
    return {
      ...runner,
      async close() {
        await runner.close();
        redis?.disconnect();
      },
    };
  } catch (err) {
    redis?.disconnect();
    throw err;
  }
}
