/**
 * Subscriptions: event-to-client latency and delivery of the contract's `SaleCompleted`
 * subscription with many live subscribers across several tenants while sales come in at a steady
 * rate, and what that costs the gateway process that serves them (CPU, memory), from one run.
 *
 *   npx tsx bench/subscriptions.ts [--tenants 10] [--subscribers 1000] [--rate 50] [--seconds 20]
 *
 * The platform runs as separate processes, as docker compose runs it: four subgraphs, the outbox
 * relay, the measured gateway (only the subscribers connect to it) and a load gateway (the sales go
 * through it). This process only sets up the fixture, holds the subscribers and sends the sales;
 * starting, watching and stopping the processes is testkit's supervisor's part.
 *
 * Uses DATABASE_URL (a PostgreSQL admin URL) when set, otherwise an embedded PostgreSQL; REDIS_URL
 * when set, otherwise a private redis-server on a free port.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { operation } from '@umi/clients';
import { addDays, dateInZone } from '@umi/kit';
import { createTenant, createTestDatabase, openTillSession, SUPER_ADMIN, wsUrl, type TestDatabase, type TestPlatform } from '@umi/testkit';
import {
  clockTicks,
  gatewayClient,
  OUTPUT_LINES_KEPT,
  readProc,
  sampleProcesses,
  startPlatformProcesses,
  STOP_TIMEOUT_MS,
  Supervisor,
  type Service,
} from '@umi/testkit/processes';
import { out, outHeader, percentile, positiveInt, postGraphql, row, runMain, startDatabase, stopEmbedded, stringOptions, type Embedded } from './lib';

/** Subscribers that open their connections at once; more would mostly measure the handshake storm. */
const CONNECT_BATCH = 50;
/** Sales in flight at most: beyond this the load generator falls behind its timetable (and says so). */
const MAX_IN_FLIGHT = 64;
const SAMPLE_MS = 500;
const STRAGGLER_MS = 10_000;
const LIVE_TIMEOUT_MS = 15_000;
const UNITS = 1_000_000;

interface SaleCompleted {
  saleCompleted?: { id?: string; branch?: { id?: string } | null } | null;
}

interface TenantSetup {
  index: number;
  token: string;
  branchId: string;
  productId: string;
  subscribers: number;
}

interface Subscriber {
  index: number;
  tenant: TenantSetup;
  client: Client;
  errors: unknown[];
  /** Close code if the connection closed before the bench closed it. */
  closed: number | null;
}

interface SaleRecord {
  id: string;
  tenant: TenantSetup;
  sentAt: number;
  respondedAt: number;
}

function options() {
  const values = stringOptions({ tenants: '10', subscribers: '1000', rate: '50', seconds: '20' });
  const tenants = positiveInt(values.tenants, '--tenants');
  const subscribers = positiveInt(values.subscribers, '--subscribers');
  if (subscribers < tenants) throw new Error(`--subscribers must be at least --tenants (${tenants}), got ${subscribers}`);
  return { tenants, subscribers, rate: positiveInt(values.rate, '--rate'), seconds: positiveInt(values.seconds, '--seconds') };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));


const PINO_LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * A service's lines at warn or above, and anything that is not a pino line (a crash, a stack
 * trace), grouped by level and message (the error's message included): how many, and when the
 * first and last were written (pino's `time`), in ms since the epoch.
 */
function problemGroups(svc: Service): { text: string; count: number; first: number; last: number }[] {
  const groups = new Map<string, { text: string; count: number; first: number; last: number }>();
  for (const line of svc.output) {
    let text: string;
    let time = NaN;
    try {
      const entry = JSON.parse(line) as { level?: unknown; time?: unknown; msg?: unknown; err?: unknown };
      if (typeof entry.level === 'number' && entry.level < 40) continue;
      const err = typeof entry.err === 'string' ? entry.err : (entry.err as { message?: unknown } | undefined)?.message;
      text = `${PINO_LEVELS[entry.level as number] ?? `level ${String(entry.level)}`} "${String(entry.msg)}"${err === undefined ? '' : `: ${String(err)}`}`;
      time = typeof entry.time === 'number' ? entry.time : NaN;
    } catch {
      text = line;
    }
    text = text.slice(0, 400);
    const g = groups.get(text);
    if (g) {
      g.count++;
      g.first = Math.min(g.first, time);
      g.last = Math.max(g.last, time);
    } else groups.set(text, { text, count: 1, first: time, last: time });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** The gateway's Prometheus counters and gauges, summed over their labels. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/metrics: HTTP ${res.status}`);
  const values = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m) values.set(m[1] as string, (values.get(m[1] as string) ?? 0) + Number(m[2]));
  }
  return values;
}

/** Sells one unit of the tenant's product through the load gateway; throws on any error. */
function seller(url: URL, agent: http.Agent) {
  const query = operation('CreateSale');
  return async (tenant: TenantSetup): Promise<SaleRecord> => {
    const input = { branchId: tenant.branchId, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId: tenant.productId, quantity: 1 }] };
    const body = JSON.stringify({ operationName: 'CreateSale', query, variables: { input } });
    const sentAt = performance.now();
    const r = await postGraphql<{ createSale: { id: string } | null }>('createSale', url, agent, { authorization: `Bearer ${tenant.token}` }, body);
    const id = r.parsed.data?.createSale?.id;
    if (r.status !== 200 || r.parsed.errors?.length || !id) throw new Error(`createSale: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
    return { id, tenant, sentAt, respondedAt: r.at };
  };
}

/**
 * What the subscribers received, per sale id: when each copy arrived and which subscribers have
 * had it. Kept per sale rather than per event so that a million deliveries stay a few megabytes.
 */
class Deliveries {
  private readonly bySale = new Map<string, { times: number[]; by: Uint8Array }>();
  duplicates = 0;
  wrongTenant = 0;
  malformed = 0;

  constructor(private readonly subscribers: number) {}

  record(sub: Subscriber, result: FormattedExecutionResult<SaleCompleted, unknown>, at: number): void {
    if (result.errors?.length) sub.errors.push(...result.errors);
    const sale = result.data?.saleCompleted;
    if (!sale?.id) {
      this.malformed++;
      return;
    }
    // One branch per tenant: a payload with any other branch is another tenant's sale.
    if (sale.branch?.id !== sub.tenant.branchId) {
      this.wrongTenant++;
      return;
    }
    let r = this.bySale.get(sale.id);
    if (!r) this.bySale.set(sale.id, (r = { times: [], by: new Uint8Array(this.subscribers) }));
    if (r.by[sub.index]) {
      this.duplicates++;
      return;
    }
    r.by[sub.index] = 1;
    r.times.push(at);
  }

  /** Arrival times of the distinct subscribers that received `saleId`. */
  of(saleId: string): number[] {
    return this.bySale.get(saleId)?.times ?? [];
  }

  /** Sale ids received that are not in `known` (neither warm-up nor measured). */
  unknown(known: Set<string>): number {
    let n = 0;
    for (const id of this.bySale.keys()) if (!known.has(id)) n++;
    return n;
  }
}

/**
 * Opens one graphql-ws connection and its SaleCompleted subscription, as a dashboard does (the
 * options of testkit's `subscribe()`), and resolves once the server acknowledged the connection.
 * Not `subscribe()` itself: the bench needs each payload's arrival time as the client sees it, and
 * keeping a million payloads in memory would distort the run.
 */
function connectSubscriber(url: string, query: string, index: number, tenant: TenantSetup, deliveries: Deliveries, closing: { now: boolean }): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    let acknowledged = false;
    // The callbacks below run only once the socket has done something, after `sub` and `timer` exist.
    const client = createClient({
      url: wsUrl(url),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tenant.token}` },
      retryAttempts: 0,
      lazy: false,
      // The `closed` handler below and the sink's `error` report these; the default prints whole
      // CloseEvents to stderr, a screenful per subscriber when the gateway goes away.
      onNonLazyError: () => undefined,
      on: {
        connected: () => {
          acknowledged = true;
          clearTimeout(timer);
          resolve(sub);
        },
        closed: (event) => {
          const code = (event as { code?: number }).code ?? -1;
          if (!acknowledged) {
            clearTimeout(timer);
            reject(new Error(`subscriber ${index}: connection closed before it was acknowledged (code ${code})`));
          } else if (!closing.now && sub.closed === null) sub.closed = code;
        },
      },
    });
    const sub: Subscriber = { index, tenant, client, errors: [], closed: null };
    const timer = setTimeout(() => {
      reject(new Error(`subscriber ${index}: no connection_ack within 15 s`));
      void client.dispose();
    }, 15_000);
    client.subscribe<SaleCompleted>(
      { query, variables: { branchId: null } },
      {
        next: (value) => deliveries.record(sub, value, performance.now()),
        error: (err) => {
          if (!closing.now) sub.errors.push(err);
        },
        complete: () => {},
      },
    );
  });
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

/**
 * Sells `total` times on a fixed timetable (sale i is due at i / rate seconds), round-robin over
 * the tenants, without waiting for one sale before starting the next, so that a slow answer does
 * not slow the event stream down. At MAX_IN_FLIGHT the next sale waits for a slot and starts late.
 */
async function runLoad(sell: (t: TenantSetup) => Promise<SaleRecord>, tenants: TenantSetup[], total: number, rate: number) {
  const interval = 1000 / rate;
  const sales: SaleRecord[] = [];
  const failures: string[] = [];
  const pending: Promise<void>[] = [];
  const slots: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let maxLag = 0;
  let late = 0;
  let firstStart = 0;
  let lastStart = 0;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => slots.push(resolve));
    const started = performance.now();
    if (i === 0) firstStart = started;
    lastStart = started;
    maxLag = Math.max(maxLag, started - due);
    if (started - due > interval) late++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    pending.push(
      sell(tenants[i % tenants.length] as TenantSetup)
        .then(
          (s) => void sales.push(s),
          (err: unknown) => void failures.push(err instanceof Error ? err.message : String(err)),
        )
        .finally(() => {
          inFlight--;
          slots.shift()?.();
        }),
    );
  }
  await Promise.all(pending);
  const achieved = total > 1 ? (total - 1) / ((lastStart - firstStart) / 1000) : NaN;
  return { sales, failures, achieved, maxInFlight, maxLag, late, wallMs: performance.now() - t0 };
}

/** What the cleanup must undo, filled in as the run gets there. */
const run: {
  supervisor?: Supervisor;
  redis?: Service;
  embedded?: Embedded;
  db?: TestDatabase;
  subscribers: Subscriber[];
  closing: { now: boolean };
  agent?: http.Agent;
} = { subscribers: [], closing: { now: false } };

let cleaning: Promise<boolean> | null = null;

/**
 * Closes the subscribers, stops every service (SIGTERM, then SIGKILL after STOP_TIMEOUT_MS), drops
 * the test database and stops redis-server and the embedded PostgreSQL. Runs once, whoever asks
 * first (the end of `main`, or a signal); resolves to false if a step failed (and says which).
 */
function cleanup(): Promise<boolean> {
  cleaning ??= (async () => {
    let clean = true;
    const step = async (what: string, action: () => Promise<unknown>) => {
      try {
        await action();
      } catch (err) {
        clean = false;
        process.stderr.write(`subscriptions: cleanup: ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    };
    const platform = run.supervisor?.services.filter((s) => s !== run.redis) ?? [];
    run.closing.now = true;
    // Subscribers before the gateway, so its shutdown does not count as their failure.
    await step('closing the subscribers', () => Promise.all(run.subscribers.map((s) => s.client.dispose())));
    run.agent?.destroy();
    // The platform's processes together (they close their pools), then the database they used.
    await step('stopping the platform', () => Promise.all(platform.map((s) => s.stop())));
    if (run.db) await step('dropping the test database', () => run.db!.drop());
    if (run.redis) await step('stopping redis-server', () => run.redis!.stop());
    if (run.embedded) await step('stopping the embedded PostgreSQL', () => stopEmbedded(run.embedded!, 'subscriptions'));
    const stopped = platform.filter((s) => s.stopped !== null && s.exited === null);
    if (stopped.length > 0) {
      const slowest = stopped.reduce((a, b) => ((b.stopped?.ms ?? 0) > (a.stopped?.ms ?? 0) ? b : a));
      const killed = stopped.filter((s) => s.stopped?.killed).map((s) => s.name);
      out(
        `stopped ${stopped.length} platform processes with SIGTERM, the slowest (${slowest.name}) in ${((slowest.stopped?.ms ?? 0) / 1000).toFixed(1)} s` +
          (killed.length > 0 ? `; killed after ${STOP_TIMEOUT_MS / 1000} s: ${killed.join(', ')}` : ''),
      );
    }
    if (run.db) out(clean ? 'test database dropped' : 'cleanup incomplete (see stderr)');
    // Only a clean cleanup dismisses the janitor; otherwise it has a go at what is left.
    await run.supervisor?.close(clean);
    return clean;
  })();
  return cleaning;
}

// `on`, not `once`: a second signal (tsx relays Ctrl-C again when the first is slow to be seen)
// must not end the process halfway through its cleanup.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (cleaning) return;
    process.stderr.write(`subscriptions: ${signal}: stopping the platform and dropping the test database\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const opts = options();
  const supervisor = (run.supervisor = new Supervisor({ name: 'subscriptions' }));
  const { services } = supervisor;
  outHeader(`tenants: ${opts.tenants}, subscribers: ${opts.subscribers}, rate: ${opts.rate} sales/s for ${opts.seconds} s`);

  const { subscribers, closing } = run;
  const agent = (run.agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT }));
  try {
    run.embedded = await startDatabase();
    const redis = process.env.REDIS_URL ? undefined : (run.redis = await supervisor.startRedis());
    const redisUrl = redis?.url ?? (process.env.REDIS_URL as string);
    const db = (run.db = await createTestDatabase());
    supervisor.watchDatabase(db.url, process.env.DATABASE_URL as string);

    const startedAt = performance.now();
    const platform = await startPlatformProcesses(supervisor, { databaseUrl: db.url, redisUrl, superAdmin: SUPER_ADMIN, gateways: ['measured gateway', 'load gateway'],
      // The subscribers all come from this one address and open in batches of CONNECT_BATCH: the
      // per-IP cap on sockets still waiting for their connection_init must let a batch through.
      overrides: { WS_MAX_UNAUTHENTICATED_PER_IP: String(Math.max(CONNECT_BATCH * 2, 100)) },
    });
    const { subgraphs, relay } = platform;
    const [measured, loadGateway] = platform.gateways as [Service, Service];
    const startMs = performance.now() - startedAt;
    const pid = (s: Service) => s.pid;
    out(
      `platform: ${services.filter((s) => s !== redis).length} processes started in ${(startMs / 1000).toFixed(1)} s: ` +
        [...subgraphs, measured, loadGateway].map((s) => `${s.name} :${s.port} (pid ${pid(s)})`).join(', ') +
        `, relay (pid ${pid(relay)}); redis: ${redis ? `private redis-server on port ${redis.port} (pid ${pid(redis)})` : 'REDIS_URL'}`,
    );

    const loadUrl = loadGateway.url as string;
    const fixtures = gatewayClient(loadGateway, SUPER_ADMIN);
    const tenants: TenantSetup[] = [];
    const expiryDate = addDays(dateInZone('Africa/Lusaka'), 300);
    for (let i = 0; i < opts.tenants; i++) {
      // createTenant uses only gql, ok and loginSuperAdmin of its platform.
      const t = await createTenant(fixtures as TestPlatform, { branchCount: 1 });
      const branch = t.branches[0];
      if (!branch) throw new Error('createTenant returned no branch');
      const product = await fixtures.ok<{ createProduct: { id: string } }>(
        operation('CreateProduct'),
        { input: { sku: `SUB-BENCH-${i + 1}`, name: `Subscription bench ${i + 1}`, requiresPrescription: false, controlledSubstance: false } },
        { token: t.adminToken },
      );
      const productId = product.createProduct.id;
      // Every sale is booked to the seller's open till session.
      await openTillSession(fixtures as TestPlatform, t, t.adminToken, branch.id);
      // Through the API rather than SQL: one receipt per tenant is cheap, and it keeps the ledger.
      await fixtures.ok(
        operation('ReceiveStock'),
        { input: { branchId: branch.id, productId, batchNumber: `SUB-BENCH-${i + 1}-B`, expiryDate, quantity: UNITS, costPrice: '1.00', sellingPrice: '2.00' } },
        { token: t.adminToken },
      );
      // Subscribers spread as evenly as the count allows; the first tenants take any remainder.
      const count = Math.floor(opts.subscribers / opts.tenants) + (i < opts.subscribers % opts.tenants ? 1 : 0);
      tenants.push({ index: i, token: t.adminToken, branchId: branch.id, productId, subscribers: count });
    }

    const hz = clockTicks();
    const idle = readProc(pid(measured));
    out(`fixture: ${opts.tenants} tenants, 1 branch and 1 product (${UNITS} units) each, made through the load gateway; measured gateway RSS ${mib(idle.rssKiB)} MiB idle`);

    const deliveries = new Deliveries(opts.subscribers);
    const query = operation('SaleCompleted');
    const measuredUrl = measured.url as string;
    const connectStarted = performance.now();
    const plan = tenants.flatMap((t) => Array.from({ length: t.subscribers }, () => t));
    for (let from = 0; from < plan.length; from += CONNECT_BATCH) {
      const batch = plan.slice(from, from + CONNECT_BATCH);
      const settled = await Promise.allSettled(batch.map((t, i) => connectSubscriber(measuredUrl, query, from + i, t, deliveries, closing)));
      for (const s of settled) if (s.status === 'fulfilled') subscribers.push(s.value);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    const connectMs = performance.now() - connectStarted;

    // graphql-ws has no acknowledgement for a subscribe message: the gateway's own gauge says when
    // every subscription has reached its hub.
    const registered = Date.now() + LIVE_TIMEOUT_MS;
    for (;;) {
      const live = (await scrape(platform.metricsUrls['measured gateway']!)).get('ws_subscriptions') ?? 0;
      if (live >= opts.subscribers) break;
      if (Date.now() > registered) throw new Error(`the measured gateway reports ${live} live subscriptions of ${opts.subscribers} after ${LIVE_TIMEOUT_MS / 1000} s`);
      await sleep(100);
    }

    // Live end to end: one sale per tenant must reach every subscriber of that tenant.
    const sell = seller(new URL(loadUrl), agent);
    const warmup = await Promise.all(tenants.map((t) => sell(t)));
    const liveBy = Date.now() + LIVE_TIMEOUT_MS;
    for (;;) {
      const behind = warmup.filter((s) => deliveries.of(s.id).length < s.tenant.subscribers);
      if (behind.length === 0) break;
      if (Date.now() > liveBy) {
        const detail = behind.map((s) => `tenant ${s.tenant.index + 1}: ${deliveries.of(s.id).length} of ${s.tenant.subscribers}`).join(', ');
        const errors = subscribers.flatMap((s) => s.errors).slice(0, 3);
        throw new Error(`not every subscriber received its tenant's warm-up sale within ${LIVE_TIMEOUT_MS / 1000} s (${detail}); subscriber errors: ${JSON.stringify(errors)}`);
      }
      await sleep(50);
    }
    out(`subscribers: ${subscribers.length} connected to the measured gateway in ${(connectMs / 1000).toFixed(1)} s (batches of ${CONNECT_BATCH}), all live (each received its tenant's warm-up sale)`);
    out('');

    // The measured gateway first, then the path of a sale and its event, then this process.
    const watched = [measured, loadGateway, ...subgraphs, relay, ...(redis ? [redis] : [])].map((s) => ({ name: s.name, pid: pid(s) }));
    watched.push({ name: 'this process (load, subscribers)', pid: process.pid });
    const before = await scrape(platform.metricsUrls['measured gateway']!);
    const sampler = sampleProcesses(watched, hz, SAMPLE_MS);
    const loadStartedAt = Date.now();
    const total = opts.rate * opts.seconds;
    const load = await runLoad(sell, tenants, total, opts.rate);
    const usage = sampler.stop();
    const lastResponse = load.sales.reduce((m, s) => Math.max(m, s.respondedAt), 0);

    const expected = load.sales.reduce((n, s) => n + s.tenant.subscribers, 0);
    const deliveredNow = () => load.sales.reduce((n, s) => n + deliveries.of(s.id).length, 0);
    while (deliveredNow() < expected && performance.now() - lastResponse < STRAGGLER_MS) await sleep(50);
    const after = await scrape(platform.metricsUrls['measured gateway']!);

    const fromResponse: number[] = [];
    const fromSend: number[] = [];
    let early = 0;
    let lastArrival = -Infinity;
    for (const s of load.sales) {
      for (const at of deliveries.of(s.id)) {
        fromResponse.push(at - s.respondedAt);
        fromSend.push(at - s.sentAt);
        if (at < s.respondedAt) early++;
        lastArrival = Math.max(lastArrival, at);
      }
    }
    fromResponse.sort((a, b) => a - b);
    fromSend.sort((a, b) => a - b);
    const delivered = fromResponse.length;
    const sold = load.sales.map((s) => s.respondedAt - s.sentAt).sort((a, b) => a - b);
    const known = new Set([...warmup, ...load.sales].map((s) => s.id));

    out(
      `load: ${total} sales due at ${opts.rate}/s over ${opts.seconds} s, round-robin over ${opts.tenants} tenants; started at ${load.achieved.toFixed(1)}/s, ` +
        `${load.sales.length} succeeded, ${load.failures.length} failed; max ${load.maxInFlight} in flight (cap ${MAX_IN_FLIGHT}), ` +
        `${load.late} started more than one interval late (max lag ${load.maxLag.toFixed(1)} ms)`,
    );
    if (load.late > 0 || load.achieved < opts.rate * 0.98) out(`  target rate NOT reached: ${load.achieved.toFixed(1)}/s of ${opts.rate}/s`);
    // Grouped without their correlation ids, which differ on every failure.
    const reasons = new Map<string, number>();
    for (const f of load.failures) {
      const reason = f.replace(/"correlationId":"[^"]*"/g, '"correlationId":"…"').trim();
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    for (const [reason, n] of reasons) out(`  failed ${n}x: ${reason}`);
    out(`createSale (load gateway): p50 ${percentile(sold, 50).toFixed(1)} ms, p95 ${percentile(sold, 95).toFixed(1)} ms, p99 ${percentile(sold, 99).toFixed(1)} ms`);
    out('');

    const widths = [50, 8];
    out(row(['published (sales made in the measured phase)', String(load.sales.length)], widths));
    out(row([`expected deliveries (x subscribers of its tenant)`, String(expected)], widths));
    out(row(['delivered', String(delivered)], widths) + `  (${((delivered / expected) * 100).toFixed(2)} %${delivered > 0 ? `; the last ${(lastArrival - lastResponse).toFixed(0)} ms after the last createSale answer` : ''})`);
    out(row(['duplicates', String(deliveries.duplicates)], widths));
    out(row(['wrong tenant (branch not the subscriber\'s)', String(deliveries.wrongTenant)], widths));
    out(row(['payloads without a sale', String(deliveries.malformed)], widths));
    // The bench's tenants are fresh and only the bench sells: a sale it has no id for committed
    // although its createSale answered with an error.
    out(row(['sales received whose createSale answered an error', String(deliveries.unknown(known))], widths));
    out(row(['arrived before the createSale response', String(early)], widths));
    const subErrors = subscribers.reduce((n, s) => n + s.errors.length, 0);
    const closed = subscribers.filter((s) => s.closed !== null);
    out(row(['subscriber errors / connections closed', `${subErrors} / ${closed.length}`], widths));
    if (subErrors > 0) out(`  first error: ${JSON.stringify(subscribers.flatMap((s) => s.errors)[0]).slice(0, 300)}`);
    if (closed.length > 0) out(`  close codes: ${[...new Set(closed.map((s) => s.closed))].join(', ')}`);
    if (delivered < expected) {
      for (const t of tenants) {
        const mine = load.sales.filter((s) => s.tenant === t);
        const got = mine.reduce((n, s) => n + deliveries.of(s.id).length, 0);
        const want = mine.length * t.subscribers;
        if (got < want) out(`  tenant ${t.index + 1}: ${got} of ${want} (${mine.filter((s) => deliveries.of(s.id).length === 0).length} sales reached no one)`);
      }
    }
    out('');

    const lw = [16, 8, 8, 8, 8];
    out(row(['latency (ms)', 'p50', 'p95', 'p99', 'max'], lw));
    for (const [name, v] of [
      ['from response', fromResponse],
      ['from send', fromSend],
    ] as const) {
      out(row([`  ${name}`, percentile(v, 50).toFixed(1), percentile(v, 95).toFixed(1), percentile(v, 99).toFixed(1), (v[v.length - 1] ?? NaN).toFixed(1)], lw));
    }
    out('');

    out(`CPU (% of one core) and RSS (MiB) per process, sampled every ${SAMPLE_MS} ms from /proc during the load (${(load.wallMs / 1000).toFixed(1)} s), CLK_TCK ${hz}`);
    const pw = [34, 8, 9, 8, 9, 8, 8];
    out(row(['process', 'pid', 'CPU mean', 'CPU max', 'RSS start', 'RSS max', 'RSS end'], pw));
    let sum = 0;
    for (const u of usage.processes) {
      const mean = u.cpu.length > 0 ? u.cpu.reduce((a, b) => a + b, 0) / u.cpu.length : NaN;
      if (Number.isFinite(mean)) sum += mean;
      const cells = [
        `  ${u.name}${u.gone ? ' (exited)' : ''}`,
        String(u.pid),
        mean.toFixed(1),
        (u.cpu.length > 0 ? Math.max(...u.cpu) : NaN).toFixed(1),
        mib(u.rss[0] ?? NaN),
        mib(u.rss.length > 0 ? Math.max(...u.rss) : NaN),
        mib(u.rss[u.rss.length - 1] ?? NaN),
      ];
      out(row(cells, pw));
    }
    out(row(['  sum of the processes above', '', sum.toFixed(1)], pw));
    const cpuCount = os.cpus().length;
    out(row([`  whole machine (${cpuCount} CPUs, PostgreSQL too)`, '', usage.machine.toFixed(1)], pw) + `  (${(usage.machine / cpuCount).toFixed(1)} % of all CPUs busy)`);
    out(`measured gateway: ${usage.processes[0]?.cpu.length ?? 0} samples; RSS idle (before any subscriber) ${mib(idle.rssKiB)} MiB`);
    out('');

    const mw = [40, 10, 10];
    out(row(['measured gateway /metrics', 'total', 'measured'], mw));
    for (const name of ['subscription_events_delivered_total', 'subscription_events_dropped_total', 'subscription_payload_fetches_total', 'subscription_events_unresolved_total', 'ws_connections', 'ws_subscriptions']) {
      const total = after.get(name);
      const gauge = name.startsWith('ws_');
      out(row([`  ${name}`, total === undefined ? 'absent' : String(total), gauge || total === undefined ? '' : String(total - (before.get(name) ?? 0))], mw));
    }
    const fetches = (after.get('subscription_payload_fetches_total') ?? 0) - (before.get('subscription_payload_fetches_total') ?? 0);
    out(`  payload fetches per published event: ${(fetches / load.sales.length).toFixed(2)} (one selection shape and access per tenant)`);

    const exited = services.filter((s) => s.exited !== null);
    if (exited.length > 0) {
      out('');
      for (const s of exited) out(`${s.name} ${s.exited} during the run:${s.lastLines(5).replace(/\n/g, '\n  ')}`);
    }
    // Ports in the messages are named after their service; times are relative to the load's start.
    const named = (text: string) => text.replace(/127\.0\.0\.1:(\d+)[^\s,]*/g, (m: string, port: string) => `${m} [${services.find((s) => s.port === Number(port))?.name ?? '?'}]`);
    const since = (ms: number) => `${ms >= loadStartedAt ? '+' : ''}${((ms - loadStartedAt) / 1000).toFixed(1)} s`;
    for (const s of services) {
      const groups = problemGroups(s);
      if (groups.length === 0) continue;
      out('');
      const n = groups.reduce((a, g) => a + g.count, 0);
      out(`${s.name} logged ${n} lines at warn or above${s.output.length >= OUTPUT_LINES_KEPT ? ` (in the first ${OUTPUT_LINES_KEPT} it wrote)` : ''}, by message (times from the start of the load):`);
      for (const g of groups.slice(0, 10)) {
        const when = Number.isFinite(g.first) ? ` (${g.first === g.last ? `at ${since(g.first)}` : `${since(g.first)} to ${since(g.last)}`})` : '';
        out(`  ${g.count}x ${named(g.text)}${when}`);
      }
      if (groups.length > 10) out(`  … and ${groups.length - 10} other messages`);
    }
  } catch (err) {
    // A failure is often another process's: say which ones had stopped by then, and what they said.
    for (const s of services) if (s.exited !== null) process.stderr.write(`subscriptions: ${s.name} ${s.exited}:${s.lastLines(15)}\n`);
    throw err;
  } finally {
    if (!(await cleanup())) process.exitCode = 1;
  }
}

runMain('subscriptions', main);
