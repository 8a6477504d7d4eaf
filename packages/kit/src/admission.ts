import type { NextFunction, Request, Response } from 'express';
import { unavailableBody } from './http';

export interface AdmissionOptions {
  /** Requests the process works on at once; beyond it, 503 SERVICE_UNAVAILABLE. */
  maxInFlight: number;
  /** Requests one key (tenant) has in flight; beyond it, 429 TOO_MANY_REQUESTS. */
  maxPerKey?: number;
  /** Whose budget a request spends (a tenant, an anonymous IP); null: the process's only. */
  keyOf?: (req: Request) => Promise<string | null> | string | null;
  /** Seconds a refused client is told to wait (`Retry-After`). */
  retryAfterSeconds?: number;
  /**
   * The status of a refusal. Browsers and partners see 503/429; a subgraph answers 200 (the
   * gateway reads any other status as a transport failure and would hide the code).
   */
  status?: (code: 'SERVICE_UNAVAILABLE' | 'TOO_MANY_REQUESTS') => number;
  onRefused?: (code: 'SERVICE_UNAVAILABLE' | 'TOO_MANY_REQUESTS') => void;
}

/**
 * Admission control: a bound on the work in flight, for the process and for each key, answered
 * at once beyond it. Queueing without bound is what turned an overload into 6 s answers for every
 * tenant and memory that stayed high after; a fast refusal with `Retry-After` keeps the latency of
 * what is admitted near idle and lets one tenant's flood spend only that tenant's share.
 */
export function createAdmission(opts: AdmissionOptions) {
  const retryAfter = opts.retryAfterSeconds ?? 1;
  const perKey = new Map<string, number>();
  let inFlight = 0;

  function refuse(res: Response, code: 'SERVICE_UNAVAILABLE' | 'TOO_MANY_REQUESTS'): void {
    opts.onRefused?.(code);
    const message = code === 'TOO_MANY_REQUESTS' ? 'Too many requests in flight for this tenant; retry' : 'The server is at capacity; retry';
    res
      .status(opts.status?.(code) ?? (code === 'TOO_MANY_REQUESTS' ? 429 : 503))
      .set('retry-after', String(retryAfter))
      .type('application/json')
      .send(unavailableBody(message, retryAfter, code));
  }

  async function middleware(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (inFlight >= opts.maxInFlight) return refuse(res, 'SERVICE_UNAVAILABLE');
    const key = opts.keyOf && opts.maxPerKey !== undefined ? await opts.keyOf(req) : null;
    if (key !== null && (perKey.get(key) ?? 0) >= (opts.maxPerKey as number)) return refuse(res, 'TOO_MANY_REQUESTS');
    // Checked again: `keyOf` may have awaited while others were admitted.
    if (inFlight >= opts.maxInFlight) return refuse(res, 'SERVICE_UNAVAILABLE');
    inFlight += 1;
    if (key !== null) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    res.once('close', () => {
      inFlight -= 1;
      if (key !== null) {
        const n = (perKey.get(key) ?? 1) - 1;
        if (n <= 0) perKey.delete(key);
        else perKey.set(key, n);
      }
    });
    next();
  }

  return {
    middleware: (req: Request, res: Response, next: NextFunction) => {
      middleware(req, res, next).catch(next);
    },
    /** Requests admitted and not yet answered, and how many keys hold some. */
    stats: () => ({ inFlight, keys: perKey.size }),
  };
}

/**
 * A counting semaphore: at most `max` of the functions given to `run` are running; the others
 * wait their turn in order. For work that a burst would otherwise start all at once.
 */
export function createLimiter(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active -= 1;
    const next = waiting.shift();
    if (next) {
      active += 1;
      next();
    }
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      else active += 1;
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiting.length;
    },
  };
}

/** Exponential backoff with full jitter: attempt 0 waits up to `baseMs`, each next one up to twice as long, never over `capMs`. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(baseMs / 2, Math.round(ceiling * random()));
}
