import { spawn } from 'node:child_process';
import Redis from 'ioredis';

/** Whether a `redis-server` binary runs here (npm ships none: a machine with only Node has none). */
export function redisServerAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', (code) => resolve(code === 0));
  });
}

/**
 * For suites that start a redis-server of their own: true when one can run. Otherwise the suite
 * skips, printing why, unless REQUIRE_REDIS=1 (CI), where a missing Redis is a failure.
 */
export async function redisServerOrSkip(suite: string): Promise<boolean> {
  if (await redisServerAvailable()) return true;
  if (process.env.REQUIRE_REDIS === '1') throw new Error(`REQUIRE_REDIS=1 but redis-server is not installed (${suite})`);
  process.stdout.write(`skipping ${suite}: redis-server is not installed (npm ships no Redis)\n`);
  return false;
}

/** Whether a Redis answers PING at `url` (REDIS_URL), within a second; false when unset or away. */
export async function redisReachable(url: string | undefined): Promise<boolean> {
  if (!url) return false;
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
