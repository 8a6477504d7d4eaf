import express from 'express';
import { backoffMs, createAdmission, createLimiter } from './admission';
import { createHttpServer } from './http';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server whose requests wait until `release()`; `tenant` header is the admission key. */
async function slowServer(opts: { maxInFlight: number; maxPerKey?: number }) {
  let waiting: (() => void)[] = [];
  const app = express();
  const admission = createAdmission({ ...opts, keyOf: (req) => (typeof req.headers.tenant === 'string' ? req.headers.tenant : null) });
  app.use(admission.middleware, (_req, res) => {
    waiting.push(() => res.json({ data: { ok: true } }));
  });
  const server = createHttpServer(app);
  const port = await server.listen(0, '127.0.0.1');
  return {
    server,
    admission,
    url: `http://127.0.0.1:${port}/`,
    /** Answers every request waiting now. */
    release() {
      const now = waiting;
      waiting = [];
      for (const answer of now) answer();
    },
  };
}

function post(url: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | null; body: unknown; ms: number }> {
  const t0 = performance.now();
  return fetch(url, { method: 'POST', headers }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json(), ms: performance.now() - t0 }));
}

describe('admission control', () => {
  it('refuses beyond the process bound at once with 503 SERVICE_UNAVAILABLE and Retry-After, and admits again after', async () => {
    const s = await slowServer({ maxInFlight: 3 });
    let answered = 0;
    const held = Array.from({ length: 3 }, () => post(s.url).finally(() => (answered += 1)));
    for (let i = 0; i < 50 && s.server.inFlight < 3; i++) await sleep(10);
    const refused = await post(s.url);
    expect(refused).toMatchObject({
      status: 503,
      retryAfter: '1',
      body: { errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true, retryAfter: 1 } }] },
    });
    // Answered while the three admitted ones are still held: refused, not queued behind them.
    expect(answered).toBe(0);
    s.release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(s.admission.stats()).toEqual({ inFlight: 0, keys: 0 });
    const again = post(s.url);
    for (let i = 0; i < 50 && s.server.inFlight < 1; i++) await sleep(10);
    s.release();
    expect((await again).status).toBe(200);
    await s.server.close();
  });

  it("refuses one tenant's excess with 429 TOO_MANY_REQUESTS while another tenant is admitted", async () => {
    const s = await slowServer({ maxInFlight: 100, maxPerKey: 2 });
    const a = Array.from({ length: 2 }, () => post(s.url, { tenant: 'a' }));
    for (let i = 0; i < 50 && s.server.inFlight < 2; i++) await sleep(10);
    const aMore = await post(s.url, { tenant: 'a' });
    expect(aMore).toMatchObject({ status: 429, retryAfter: '1', body: { errors: [{ extensions: { code: 'TOO_MANY_REQUESTS', retryable: true } }] } });
    const b = post(s.url, { tenant: 'b' });
    for (let i = 0; i < 50 && s.server.inFlight < 3; i++) await sleep(10);
    expect(s.admission.stats()).toEqual({ inFlight: 3, keys: 2 });
    s.release();
    expect([...(await Promise.all(a)), await b].map((r) => r.status)).toEqual([200, 200, 200]);
    await s.server.close();
  });
});

describe('draining HTTP server', () => {
  it('finishes requests in flight and refuses new connections meanwhile', async () => {
    const s = await slowServer({ maxInFlight: 100 });
    const inFlight = Array.from({ length: 5 }, () => post(s.url));
    for (let i = 0; i < 50 && s.server.inFlight < 5; i++) await sleep(10);
    const draining = s.server.drain(5000);
    expect(s.server.draining).toBe(true);
    // New connections are refused by the kernel: the listening socket is closed.
    await expect(fetch(s.url, { method: 'POST' })).rejects.toThrow();
    await sleep(200);
    s.release();
    expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await draining).toBe(0);
  });

  it('cuts what outlives the timeout, and says how many', async () => {
    const s = await slowServer({ maxInFlight: 100 });
    const slow = post(s.url);
    for (let i = 0; i < 50 && s.server.inFlight < 1; i++) await sleep(10);
    expect(await s.server.drain(100)).toBe(1);
    await expect(slow).rejects.toThrow();
  });
});

describe('limiter and backoff', () => {
  it('runs at most `max` at once, in order', async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limiter.run(async () => {
          running += 1;
          peak = Math.max(peak, running);
          await sleep(5);
          order.push(i);
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('doubles up to the cap, with jitter', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffMs(n, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(3, 100, 1000, () => 0)).toBe(50);
    expect(backoffMs(40, 100, 30_000, () => 0.5)).toBe(15_000);
  });
});
