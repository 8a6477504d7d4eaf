import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type Redis from 'ioredis';
import type { Counter, Registry } from 'prom-client';
import { Gauge, Counter as PromCounter } from 'prom-client';

/**
 * What a cached read depends on. `tenant` is everything of the tenant that is not scoped further
 * (catalogue, prices, settings, branches); `users` the tenant's user rows; `branch:<id>` one
 * branch's stock and per-branch settings (prices, reorder rules). Every cached read depends on `tenant` as well as its own scopes, so a
 * mutation that declares nothing (the default) invalidates the whole tenant.
 */
export type CacheScope = 'tenant' | 'users' | `branch:${string}`;

/** A value's JSON form, with Dates kept as Dates (Prisma rows carry them). */
function encode(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.toISOString() } : v;
  });
}
function decode<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$date === 'string' && Object.keys(o).length === 1) return new Date(o.$date);
    }
    return v;
  }) as T;
}

const token = () => randomBytes(8).toString('base64url');

/** Redis key of the global epoch: replaced after any outage a process saw, and by platform-wide changes. */
const EPOCH_KEY = 'cache:epoch';
const versionKey = (tenantId: string, scope: CacheScope) => `tenant:${tenantId}:v:${scope}`;

/**
 * Versions live where every process can see them: in Redis, or (no Redis: one process, `npm start`)
 * in this module, shared by every subgraph of the process. A version is a random token, not a
 * counter, so a key Redis lost or evicted comes back as a value no cached entry carries.
 */
const localVersions = new Map<string, string>();

export interface CacheOptions {
  /** Redis for versions and L2; null: L1 alone with in-process versions. */
  redis: Redis | null;
  registry?: Registry;
  /** L1 size (entries) and how long an L1/L2 entry lives at most, whatever the versions say. */
  maxEntries?: number;
  ttlMs?: number;
  onError?: (err: unknown, what: string) => void;
}

interface Entry {
  tag: string;
  value: unknown;
}

/**
 * L1 (in-process LRU) and L2 (Redis) for hot reads, with exact invalidation: each entry is tagged
 * with the versions of the scopes it depends on when it was loaded, and a read uses it only if
 * those versions are still current. Mutations replace the versions of what they touched before
 * their response is sent (see the subgraph server), so once a client has its answer no process
 * reads anything older from a cache. When Redis fails, reads go to the database and writes still
 * succeed; the cache is trusted again only after this process has replaced the global epoch, which
 * orphans every entry made before the outage (writes during it could not bump their versions).
 */
export function createCache(opts: CacheOptions) {
  const { redis } = opts;
  const ttlMs = opts.ttlMs ?? 60_000;
  const l1 = new LRUCache<string, Entry>({ max: opts.maxEntries ?? 20_000, ttl: ttlMs });
  const onError = opts.onError ?? (() => {});
  // Until the epoch is replaced after a failure (or the first connection), nothing is trusted.
  let trusted = redis === null;
  let reestablishing: Promise<void> | null = null;

  const stats = new Map<string, { hits: number; misses: number }>();
  let requests: Counter<'cache' | 'result'> | null = null;
  if (opts.registry) {
    requests = new PromCounter({ name: 'cache_requests_total', help: 'Cached reads by cache and result (hit, miss, bypass)', labelNames: ['cache', 'result'], registers: [opts.registry] });
    new Gauge({
      name: 'cache_hit_rate',
      help: 'Share of reads answered from L1 or L2 since start, per cache (bypassed reads excluded)',
      labelNames: ['cache'],
      registers: [opts.registry],
      collect() {
        for (const [cache, s] of stats) this.set({ cache }, s.hits + s.misses === 0 ? 0 : s.hits / (s.hits + s.misses));
      },
    });
  }
  function count(cache: string, result: 'hit' | 'miss' | 'bypass') {
    requests?.inc({ cache, result });
    if (result === 'bypass') return;
    let s = stats.get(cache);
    if (!s) stats.set(cache, (s = { hits: 0, misses: 0 }));
    if (result === 'hit') s.hits += 1;
    else s.misses += 1;
  }

  function distrust(err: unknown, what: string) {
    if (trusted) onError(err, what);
    trusted = false;
  }

  if (redis) {
    // A connection that closed may have missed bumps (ours failed, others' we cannot know of).
    redis.on('close', () => distrust(new Error('redis connection closed'), 'connection'));
    redis.on('ready', () => void reestablish());
  }

  /** Replaces the epoch so that nothing cached before now is used again, then trusts Redis. */
  function reestablish(): Promise<void> {
    if (!redis || trusted) return Promise.resolve();
    reestablishing ??= redis
      .set(EPOCH_KEY, token())
      .then(() => {
        l1.clear();
        trusted = true;
      })
      .catch((err: unknown) => distrust(err, 'epoch'))
      .finally(() => {
        reestablishing = null;
      });
    return reestablishing;
  }

  /** The tag of the current versions of `scopes` (plus the epoch and the tenant), or null: do not cache. */
  async function currentTag(tenantId: string, scopes: CacheScope[]): Promise<string | null> {
    const keys = [EPOCH_KEY, ...['tenant' as const, ...scopes.filter((s) => s !== 'tenant')].map((s) => versionKey(tenantId, s))];
    if (!redis) {
      return keys
        .map((k) => {
          let v = localVersions.get(k);
          if (v === undefined) localVersions.set(k, (v = token()));
          return v;
        })
        .join('.');
    }
    if (!trusted) {
      if (redis.status !== 'ready') return null;
      await reestablish();
      if (!trusted) return null;
    }
    try {
      let values = await redis.mget(...keys);
      if (values.some((v) => v === null)) {
        // First use of a scope (or a key Redis lost): give it a fresh token, keeping one a racing process set.
        const pipe = redis.pipeline();
        keys.forEach((k, i) => {
          if (values[i] === null) pipe.set(k, token(), 'NX');
        });
        await pipe.exec();
        values = await redis.mget(...keys);
        if (values.some((v) => v === null)) return null;
      }
      // A read that began before an outage it did not notice must not cache what it loads.
      return trusted ? values.join('.') : null;
    } catch {
      // A slow answer is no missed bump: this read goes to the database, the cache stays trusted
      // (a lost connection distrusts it through 'close').
      return null;
    }
  }

  async function l2Get(key: string): Promise<unknown> {
    if (!redis || !trusted) return undefined;
    try {
      const text = await redis.get(key);
      return text === null ? undefined : decode(text);
    } catch {
      return undefined;
    }
  }

  function l2Set(key: string, value: unknown): void {
    if (!redis || !trusted) return;
    // An entry that did not reach Redis is simply not there; nothing to distrust.
    redis.set(key, encode(value), 'PX', ttlMs).catch(() => {});
  }

  return {
    /**
     * `load()`'s answer for `key` of cache `name` in tenant `tenantId`, from L1 or L2 when an entry
     * tagged with the current versions of `scopes` exists. `tag` is the request's memo of versions.
     */
    async read<T>(name: string, tenantId: string, scopes: CacheScope[], key: string, load: () => Promise<T>, tagOf = currentTag): Promise<T> {
      const tag = await tagOf(tenantId, scopes);
      if (tag === null) {
        count(name, 'bypass');
        return load();
      }
      const base = `tenant:${tenantId}:c:${name}:${key}`;
      const hit = l1.get(base);
      if (hit && hit.tag === tag) {
        count(name, 'hit');
        return hit.value as T;
      }
      const l2Key = `${base}:${tag}`;
      const fromL2 = await l2Get(l2Key);
      if (fromL2 !== undefined) {
        count(name, 'hit');
        l1.set(base, { tag, value: fromL2 });
        return fromL2 as T;
      }
      count(name, 'miss');
      const value = await load();
      // Only what PostgreSQL said under versions at least as new as `tag` is stored under it.
      if (value !== undefined) {
        l1.set(base, { tag, value });
        l2Set(l2Key, value);
      }
      return value;
    },
    currentTag,
    /**
     * Replaces the versions of `scopes` of `tenantId` (null: every tenant, through the epoch), after
     * the change committed and before its answer leaves. Never throws: a write stands even when
     * Redis is away, and this process then stops trusting the cache until it replaced the epoch.
     * Resolves to whether the versions were replaced.
     */
    async bump(tenantId: string | null, scopes: CacheScope[]): Promise<boolean> {
      const keys = tenantId === null ? [EPOCH_KEY] : [...new Set(scopes)].map((s) => versionKey(tenantId, s));
      if (!redis) {
        for (const k of keys) localVersions.set(k, token());
        return true;
      }
      try {
        const pipe = redis.pipeline();
        for (const k of keys) pipe.set(k, token());
        const results = await pipe.exec();
        const failed = results?.find(([err]) => err);
        if (!results || failed) throw failed?.[0] ?? new Error('redis pipeline failed');
        return true;
      } catch (err) {
        distrust(err, 'bump');
        return false;
      }
    },
    /** Whether reads may use the cache now (false while Redis is away or not yet re-established). */
    get trusted(): boolean {
      return trusted;
    },
    /** Forgets every L1 entry (tests). */
    clearL1(): void {
      l1.clear();
    },
  };
}
export type Cache = ReturnType<typeof createCache>;

/**
 * A request's view of the cache. Queries read through it with the versions fetched once per
 * request (one MGET per tenant and scope set); a mutation bypasses it (its answer must show its own
 * writes) and records what it touched, to be bumped once it committed and before it answers.
 */
export class RequestCache {
  /** Set for mutations: reads go to the database. */
  bypass = false;
  /** Scopes the mutation declared; null means the whole tenant. */
  private touched: Set<CacheScope> | null = null;
  private readonly tags = new Map<string, Promise<string | null>>();

  /** `cache` null: caching is off and every read loads. */
  constructor(private readonly cache: Cache | null) {}

  /** Cached read (see `Cache.read`), or `load()` straight away when bypassed. */
  read<T>(name: string, tenantId: string, scopes: CacheScope[], key: string, load: () => Promise<T>): Promise<T> {
    const cache = this.cache;
    if (this.bypass || !cache) return load();
    return cache.read(name, tenantId, scopes, key, load, (t, s) => {
      const memo = `${t}|${s.join(',')}`;
      let tag = this.tags.get(memo);
      if (!tag) this.tags.set(memo, (tag = cache.currentTag(t, s)));
      return tag;
    });
  }

  /**
   * Narrows what this mutation invalidates to `scopes` (e.g. a sale: its branch's stock). Without
   * it the whole tenant is invalidated, which is always safe; narrow only when the mutation
   * provably changes nothing else that is cached.
   */
  touches(...scopes: CacheScope[]): void {
    this.touched ??= new Set();
    for (const s of scopes) this.touched.add(s);
  }

  /** Bumps what the mutation touched; tenantId null (platform operator, anonymous) bumps everything. */
  async commit(tenantId: string | null): Promise<void> {
    if (!this.cache) return;
    await this.cache.bump(tenantId, tenantId === null ? [] : this.touched ? [...this.touched] : ['tenant']);
  }
}
