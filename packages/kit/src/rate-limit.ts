import type Redis from 'ioredis';
import type { Logger } from './logger';

export interface TakeResult {
  allowed: boolean;
  /** Milliseconds until `cost` tokens are available again (0 when allowed). */
  retryAfterMs: number;
  remaining: number;
}

/** A token bucket: `capacity` tokens (the burst), refilled at `perMinute` tokens a minute. */
export interface TokenBucket {
  take(key: string, cost?: number): Promise<TakeResult>;
}

export interface BucketShape {
  capacity: number;
  perMinute: number;
}

/** One process's buckets; for a single machine without Redis and as Redis's fallback. */
export function createMemoryBucket({ capacity, perMinute }: BucketShape, maxKeys = 100_000): TokenBucket {
  const perMs = perMinute / 60_000;
  const state = new Map<string, { tokens: number; ts: number }>();
  return {
    async take(key, cost = 1) {
      const now = Date.now();
      const s = state.get(key) ?? { tokens: capacity, ts: now };
      s.tokens = Math.min(capacity, s.tokens + (now - s.ts) * perMs);
      s.ts = now;
      let result: TakeResult;
      if (s.tokens >= cost) {
        s.tokens -= cost;
        result = { allowed: true, retryAfterMs: 0, remaining: Math.floor(s.tokens) };
      } else {
        result = { allowed: false, retryAfterMs: Math.ceil((cost - s.tokens) / perMs), remaining: 0 };
      }
      state.delete(key);
      state.set(key, s);
      // Map keeps insertion order, so the first key is the least recently used.
      if (state.size > maxKeys) state.delete(state.keys().next().value as string);
      return result;
    },
  };
}

// Atomic refill-and-take. Uses the Redis server's clock so that every gateway instance agrees.
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1]) or capacity
local ts = tonumber(data[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * per_ms)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = math.ceil((cost - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return {allowed, retry, math.floor(tokens)}
`;

/**
 * Buckets shared by every instance through Redis. When Redis fails, the same limits hold per
 * process from memory: a till keeps working during a Redis outage, and limits still apply.
 */
export function createRedisBucket(redis: Redis, prefix: string, shape: BucketShape, logger: Logger): TokenBucket {
  const fallback = createMemoryBucket(shape);
  const perMs = shape.perMinute / 60_000;
  return {
    async take(key, cost = 1) {
      try {
        const [allowed, retry, remaining] = (await redis.eval(TAKE_SCRIPT, 1, `${prefix}:${key}`, shape.capacity, perMs, cost)) as [number, number, number];
        return { allowed: allowed === 1, retryAfterMs: retry, remaining };
      } catch (err) {
        logger.debug({ err: (err as Error).message, prefix }, 'rate limit falls back to memory');
        return fallback.take(key, cost);
      }
    },
  };
}
