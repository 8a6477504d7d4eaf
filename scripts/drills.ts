/**
 * Failure drills: the platform as separate processes (four subgraphs, the outbox relay, a gateway)
 * with a private redis-server, under a steady load of cash sales, through the scenarios of issue
 * 13: a subgraph killed, every database backend terminated again and again, Redis restarted, the
 * relay restarted, the gateway SIGTERMed mid-load, and one tenant flooding. Each scenario prints:
 * attempted, succeeded, failed by code, committed in the database, events delivered, duplicates,
 * partial sales, ledger breaks, and processes that died.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run drills [-- --seconds 8]
 *
 * Clients behave as the contract asks: a failed sale is retried with the same idempotency key
 * (after Retry-After when given) until it succeeds; "failed by code" counts every failed attempt.
 * Not part of `npm test`: it takes a few minutes.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { Client } from 'pg';
import { operation } from '@umi/clients';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { createTenant, createTestDatabase, createUser, ledgerBreaks, openTillSession, partialSales, SUPER_ADMIN, type TestDatabase, type TestPlatform } from '@umi/testkit';
import { gatewayClient, startPlatformProcesses, Supervisor, type PlatformProcesses, type Service } from '@umi/testkit/processes';

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a client keeps retrying one key after the scenario's load ends. */
const SETTLE_MS = 30_000;
const PER_TENANT = 4;

interface Shop {
  name: string;
  tenantId: string;
  schema: string;
  branchId: string;
  productId: string;
  token: string;
}

interface Attempt {
  ok: boolean;
  code: string;
  ms: number;
  retryAfter: number | null;
}

/** One sale attempt through the gateway; transport failures are reported by their cause's code. */
async function attemptSale(url: string, shop: Shop, key: string): Promise<Attempt> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.token}` },
      body: JSON.stringify({
        query: operation('CreateSale'),
        variables: { input: { branchId: shop.branchId, paymentMethod: 'CASH', idempotencyKey: key, items: [{ productId: shop.productId, quantity: 1 }] } },
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const retryAfter = res.headers.get('retry-after');
    let body: { data?: { createSale?: { id?: string } | null } | null; errors?: { extensions?: { code?: string } }[] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return { ok: false, code: `HTTP ${res.status} (not JSON)`, ms: performance.now() - t0, retryAfter: null };
    }
    if (body.data?.createSale?.id) return { ok: true, code: 'OK', ms: performance.now() - t0, retryAfter: null };
    return { ok: false, code: String(body.errors?.[0]?.extensions?.code ?? `HTTP ${res.status}`), ms: performance.now() - t0, retryAfter: retryAfter ? Number(retryAfter) : null };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { ok: false, code: cause?.code ?? (err as Error).name, ms: performance.now() - t0, retryAfter: null };
  }
}

/** What a scenario's clients did. */
class Tally {
  attempted = 0;
  succeeded = 0;
  abandoned = 0;
  failures = new Map<string, number>();
  latencies: number[] = [];
  keys: string[] = [];

  fail(code: string): void {
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
  }
}

/** `workers` cashiers of `shop` selling until `until()` says stop, each retrying a failed sale with its key. */
function load(url: () => string, shop: Shop, workers: number, running: () => boolean, tally: Tally, pauseMs = 0): Promise<void> {
  return Promise.all(
    Array.from({ length: workers }, async () => {
      while (running()) {
        const key = randomUUID();
        tally.attempted += 1;
        tally.keys.push(key);
        const deadline = Date.now() + SETTLE_MS;
        for (;;) {
          const a = await attemptSale(url(), shop, key);
          if (a.ok) {
            tally.succeeded += 1;
            tally.latencies.push(a.ms);
            break;
          }
          tally.fail(a.code);
          if (a.code === 'BAD_USER_INPUT' || a.code === 'FORBIDDEN' || Date.now() > deadline) {
            tally.abandoned += 1;
            break;
          }
          await sleep(a.retryAfter !== null ? Math.min(a.retryAfter * 1000, 1000) : 200);
        }
        if (pauseMs) await sleep(pauseMs);
      }
    }),
  ).then(() => undefined);
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] as number) : NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, only: { type: 'string' } } });
  const seconds = Number(values.seconds);
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL (a PostgreSQL admin URL) is required');
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    out('drills: redis-server is not on PATH; the drills need a private Redis to restart. Skipped.');
    return;
  }
  const supervisor = new Supervisor({ name: 'drills' });
  let db: TestDatabase | null = null;
  let clean = false;
  try {
    const redisSvc = await supervisor.startRedis();
    db = await createTestDatabase();
    supervisor.watchDatabase(db.url, process.env.DATABASE_URL);
    const t0 = performance.now();
    const platform: PlatformProcesses = await startPlatformProcesses(supervisor, {
      databaseUrl: db.url,
      redisUrl: redisSvc.url as string,
      superAdmin: SUPER_ADMIN,
      gateways: ['gateway'],
      overrides: { MAX_IN_FLIGHT_PER_TENANT: String(PER_TENANT), SHUTDOWN_TIMEOUT_MS: '8000', LOG_LEVEL: 'error' },
    });
    const gateway = platform.gateways[0] as Service;
    out(`platform: ${supervisor.services.length - 1} processes + redis-server :${redisSvc.port}, started in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${seconds} s of load per scenario; per-tenant in-flight limit ${PER_TENANT}`);
    const api = gatewayClient(gateway, SUPER_ADMIN) as TestPlatform;
    const expiryDate = addDays(dateInZone('Africa/Lusaka'), 365);
    const shops: Shop[] = [];
    for (const name of ['A', 'B']) {
      const t = await createTenant(api, { branchCount: 1 });
      const branchId = (t.branches[0] as { id: string }).id;
      const cashier = await createUser(api, t, 'CASHIER', [branchId]);
      // Every sale needs its seller's open till session at the branch.
      await openTillSession(api, t, cashier.token, branchId);
      const p = await api.ok<{ createProduct: { id: string } }>(
        operation('CreateProduct'),
        { input: { sku: `DRILL-${name}`, name: `Drill ${name}`, requiresPrescription: false, controlledSubstance: false } },
        { token: t.adminToken },
      );
      await api.ok(
        operation('ReceiveStock'),
        { input: { branchId, productId: p.createProduct.id, batchNumber: `DRILL-${name}-1`, expiryDate, quantity: 1_000_000, costPrice: '1.00', sellingPrice: '2.00' } },
        { token: t.adminToken },
      );
      shops.push({ name, tenantId: t.id, schema: tenantSchemaName(t.subdomain), branchId, productId: p.createProduct.id, token: cashier.token });
    }
    const [a, b] = shops as [Shop, Shop];
    const url = () => gateway.url as string;
    const redis = () => new Redis(redisSvc.url as string, { maxRetriesPerRequest: 1, lazyConnect: true });

    /** The sale.completed events on the bus for `saleIds`: unique ones, and extra copies. */
    async function eventsFor(shop: Shop, saleIds: Set<string>): Promise<{ delivered: number; duplicates: number }> {
      const r = redis();
      try {
        await r.connect();
        const entries = await r.xrange(`umi:ev:${shop.tenantId}:sale.completed`, '-', '+');
        const seen = new Map<string, number>();
        for (const [, fields] of entries) {
          const e = JSON.parse(fields[1] as string) as { data?: { saleId?: string; id?: string } };
          const id = e.data?.saleId ?? e.data?.id;
          if (id && saleIds.has(id)) seen.set(id, (seen.get(id) ?? 0) + 1);
        }
        // A replay after a Redis restart republishes on purpose (consumers dedupe by eventId):
        // a duplicate here is a second copy on the bus, counted for the record.
        return { delivered: seen.size, duplicates: [...seen.values()].reduce((s, n) => s + n - 1, 0) };
      } finally {
        r.disconnect();
      }
    }

    async function salesOf(shop: Shop, keys: string[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const { rows } = await (db as TestDatabase).pool.query<{ id: string }>(
        `SELECT s.id::text FROM "${shop.schema}".sales s JOIN "${shop.schema}".idempotency_keys k ON k.resource_id = s.id WHERE k.scope = 'createSale' AND k.key = ANY($1::text[])`,
        [keys],
      );
      return new Set(rows.map((r) => r.id));
    }

    async function unpublished(): Promise<number> {
      let n = 0;
      for (const s of shops) n += (await (db as TestDatabase).pool.query(`SELECT count(*)::int AS n FROM "${s.schema}".outbox WHERE published_at IS NULL`)).rows[0].n as number;
      return n;
    }

    let allGood = true;
    /** What a scenario's action observed, printed under its heading. */
    let notes: string[] = [];
    const note = (line: string) => notes.push(line);
    async function scenario(name: string, act: (running: () => boolean) => Promise<void>, opts: { flood?: boolean } = {}): Promise<void> {
      if (values.only && !name.includes(values.only)) return;
      const died = new Set(supervisor.services.filter((s) => s.exited !== null).map((s) => s.name));
      const tallies = new Map<Shop, Tally>(shops.map((s) => [s, new Tally()]));
      let running = true;
      const started = performance.now();
      const loads = opts.flood
        ? [load(url, a, 40, () => running, tallies.get(a) as Tally), load(url, b, 1, () => running, tallies.get(b) as Tally, 50)]
        : shops.map((s) => load(url, s, 3, () => running, tallies.get(s) as Tally, 100));
      const acting = act(() => running);
      await sleep(seconds * 1000);
      running = false;
      await acting;
      await Promise.all(loads);
      // Events get their chance to leave: the relay's backoff and sweep, then the bus.
      for (let i = 0; i < 150 && (await unpublished()) > 0; i++) await sleep(200);
      await sleep(500);
      const elapsed = (performance.now() - started) / 1000;
      out('');
      out(`== ${name} (${elapsed.toFixed(1)} s)`);
      for (const line of notes) out(`  (${line})`);
      notes = [];
      let problems = 0;
      for (const shop of shops) {
        const t = tallies.get(shop) as Tally;
        const committed = await salesOf(shop, t.keys);
        const ev = await eventsFor(shop, committed);
        const failed = [...t.failures.entries()].sort((x, y) => y[1] - x[1]).map(([c, n]) => `${c} ${n}`).join(', ') || 'none';
        out(
          `  tenant ${shop.name}: attempted ${t.attempted}, succeeded ${t.succeeded}, abandoned ${t.abandoned}; failed attempts by code: ${failed}; ` +
            `committed in DB ${committed.size}; events delivered ${ev.delivered}/${committed.size}, duplicates ${ev.duplicates}; p95 ${p95(t.latencies).toFixed(0)} ms`,
        );
        if (committed.size !== t.succeeded || ev.delivered !== committed.size || t.abandoned > 0) problems += 1;
      }
      let partial = 0;
      let breaks = 0;
      for (const shop of shops) {
        partial += (await partialSales((db as TestDatabase).pool, shop.schema)).length;
        breaks += (await ledgerBreaks((db as TestDatabase).pool, shop.schema)).length;
      }
      const dead = supervisor.services.filter((s) => s.exited !== null && !died.has(s.name)).map((s) => `${s.name} (${s.exited})`);
      out(`  partial sales ${partial}; ledger breaks ${breaks}; processes that died: ${dead.length ? dead.join(', ') : 'none'}; unpublished outbox rows ${await unpublished()}`);
      if (partial || breaks || dead.length || problems) allGood = false;
      if (opts.flood) {
        const ta = tallies.get(a) as Tally;
        const tb = tallies.get(b) as Tally;
        const refusedB = [...tb.failures.entries()].filter(([c]) => c === 'TOO_MANY_REQUESTS' || c === 'SERVICE_UNAVAILABLE').reduce((s, [, n]) => s + n, 0);
        out(`  flood: A refused at once ${ta.failures.get('TOO_MANY_REQUESTS') ?? 0} times; B refused ${refusedB} times; B p95 while A floods ${p95(tb.latencies).toFixed(0)} ms (B's idle p95: ${idleP95.toFixed(0)} ms)`);
        if (refusedB > 0) allGood = false;
      }
    }

    // Warm-up (JIT, connections, tenant clients), then B's idle latency for the flood's comparison.
    await load(url, a, 2, (() => { let n = 0; return () => n++ < 10; })(), new Tally());
    await load(url, b, 2, (() => { let n = 0; return () => n++ < 10; })(), new Tally());
    const idle = new Tally();
    let idleRunning = true;
    const idleLoad = load(url, b, 1, () => idleRunning, idle, 50);
    await sleep(seconds * 1000);
    idleRunning = false;
    await idleLoad;
    const idleP95 = p95(idle.latencies);
    out(`idle: tenant B alone, ${idle.succeeded} sales, p95 ${idleP95.toFixed(0)} ms`);

    const [tenantSg, , inventory, pos] = platform.subgraphs as [Service, Service, Service, Service];
    void tenantSg;
    void inventory;
    await scenario('kill a subgraph (pos SIGKILLed, restarted 2 s later)', async () => {
      await sleep(2000);
      await pos.kill('SIGKILL');
      note('pos SIGKILLed; restarting');
      await sleep(2000);
      await pos.restart();
    });

    await scenario('pg_terminate_backend every 0.5 s', async (running) => {
      const killer = new Client({ connectionString: (db as TestDatabase).url });
      killer.on('error', () => {});
      await killer.connect();
      let kills = 0;
      while (running()) {
        await killer.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`);
        kills += 1;
        await sleep(500);
      }
      await killer.end();
      note(`terminated every backend ${kills} times`);
    });

    await scenario('Redis restart (SIGKILL, 2 s away, no persistence)', async () => {
      await sleep(2000);
      await redisSvc.kill('SIGKILL');
      await sleep(2000);
      await redisSvc.restart();
    });

    await scenario('relay restart (SIGKILL, restarted 2 s later)', async () => {
      await sleep(2000);
      await platform.relay.kill('SIGKILL');
      await sleep(2000);
      await platform.relay.restart();
    });

    await scenario('SIGTERM the gateway mid-load (restarted once it exits)', async () => {
      await sleep(2000);
      const exit = await gateway.kill('SIGTERM', 15_000);
      note(`gateway exited with code ${exit?.code ?? exit?.signal} ${exit?.ms.toFixed(0)} ms after SIGTERM${exit?.killed ? ', SIGKILLed after the timeout' : ''}`);
      await gateway.restart();
    });

    await scenario(`overload by one tenant (A: 40 concurrent clients; B: one client; per-tenant limit ${PER_TENANT})`, async () => {}, { flood: true });

    const dead = supervisor.services.filter((s) => s.exited !== null);
    out('');
    out(dead.length ? `processes dead at the end: ${dead.map((s) => s.name).join(', ')}` : 'every process alive at the end');
    out(allGood ? 'drills: every scenario ended with nothing lost and every process alive' : 'drills: SOME SCENARIO LOST SOMETHING (see above)');
    process.exitCode = allGood ? 0 : 1;
    await supervisor.stopAll();
    await db.drop();
    db = null;
    clean = true;
  } finally {
    if (!clean) {
      await supervisor.stopAll().catch(() => {});
      await db?.drop().catch(() => {});
    }
    await supervisor.close(clean);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`drills: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
