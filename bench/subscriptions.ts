/**
 * Subscriptions: event-to-client latency and delivery of the contract's `SaleCompleted`
 * subscription with many live subscribers across several tenants while sales come in at a steady
 * rate, and what that costs the gateway process that serves them (CPU, memory), from one run.
 *
 *   npx tsx bench/subscriptions.ts [--tenants 10] [--subscribers 1000] [--rate 50] [--seconds 20]
 *
 * Uses DATABASE_URL (a PostgreSQL admin URL) when set, otherwise an embedded PostgreSQL; REDIS_URL
 * when set, otherwise a private redis-server on a free port.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, startTestPlatform, wsUrl, type TestPlatform } from '@umi/testkit';
import { startEmbeddedPostgres } from '../packages/db/src/embedded-postgres.mjs';

const REPO_ROOT = join(__dirname, '..');
/** Subscribers that open their connections at once; more would mostly measure the handshake storm. */
const CONNECT_BATCH = 50;
/** Sales in flight at most: beyond this the load generator falls behind its timetable (and says so). */
const MAX_IN_FLIGHT = 64;
const SAMPLE_MS = 500;
const STRAGGLER_MS = 10_000;
const LIVE_TIMEOUT_MS = 15_000;
const GATEWAY_START_MS = 60_000;
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

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

function options() {
  const { values } = parseArgs({
    options: {
      tenants: { type: 'string', default: '10' },
      subscribers: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '20' },
    },
  });
  const tenants = positiveInt(values.tenants, '--tenants');
  const subscribers = positiveInt(values.subscribers, '--subscribers');
  if (subscribers < tenants) throw new Error(`--subscribers must be at least --tenants (${tenants}), got ${subscribers}`);
  return { tenants, subscribers, rate: positiveInt(values.rate, '--rate'), seconds: positiveInt(values.seconds, '--seconds') };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

const children = new Set<ChildProcess>();
// A bench that dies without its cleanup (a crash, a closed stdout) must not leave its gateway and
// redis-server running; Ctrl-C reaches them anyway, as they share its process group.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Starts a process that is killed when this one exits, whatever the way. */
function spawnOwned(command: string, args: string[], opts: Parameters<typeof spawn>[2]): ChildProcess {
  const proc = spawn(command, args, opts);
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

/** Waits for `proc` to exit, killing it if it has not within `ms`. */
async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals, ms: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

/**
 * A redis-server of the bench's own when REDIS_URL is not set: the measured gateway is another
 * process, and Redis is the only bus that crosses processes. Nothing persisted, killed at the end.
 */
async function startPrivateRedis(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const proc = spawnOwned('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => proc.once('error', (err) => reject(new Error(`redis-server could not be started: ${err.message}`))));
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      if (await canConnect(port)) return;
      if (proc.exitCode !== null) throw new Error(`redis-server exited with code ${proc.exitCode}`);
      await sleep(50);
    }
    throw new Error('redis-server did not accept connections within 5 s');
  })();
  try {
    await Promise.race([ready, failed]);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => stopProcess(proc, 'SIGKILL', 5000) };
}

/** CPU time (user + system, in clock ticks) and resident memory of a process, from /proc. */
function readProc(pid: number): { ticks: number; rssKiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may hold spaces: count fields from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { ticks, rssKiB: Number(rss?.[1] ?? NaN) };
}

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** Samples a process's CPU share (of one core) and RSS every SAMPLE_MS until stopped. */
function sampleProcess(pid: number, hz: number) {
  const cpu: number[] = [];
  const rss: number[] = [];
  let last = { ...readProc(pid), at: performance.now() };
  rss.push(last.rssKiB);
  const timer = setInterval(() => {
    const now = { ...readProc(pid), at: performance.now() };
    cpu.push(((now.ticks - last.ticks) / hz / ((now.at - last.at) / 1000)) * 100);
    rss.push(now.rssKiB);
    last = now;
  }, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      // The tail since the last tick is part of the phase too.
      const now = { ...readProc(pid), at: performance.now() };
      if (now.at - last.at >= SAMPLE_MS / 5) cpu.push(((now.ticks - last.ticks) / hz / ((now.at - last.at) / 1000)) * 100);
      rss.push(now.rssKiB);
      return { cpu, rss };
    },
  };
}

interface ChildGateway {
  proc: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** What it wrote (pino lines at LOG_LEVEL=warn, or a crash): a clean run writes nothing. */
  output: string[];
  stop(): Promise<void>;
}

/**
 * The measured gateway, a process of its own so that its CPU and memory are its alone: the
 * platform, the load generator and the subscribers all live in this process.
 */
async function startChildGateway(p: TestPlatform, redisUrl: string): Promise<ChildGateway> {
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  // The platform's subgraph ports are 0 (ephemeral), which loadEnv refuses from a string; the
  // gateway reaches the subgraphs through their *_URL settings and never reads these.
  const unused = new Set(['TENANT_PORT', 'PHARMACY_PORT', 'INVENTORY_PORT', 'POS_PORT']);
  for (const [k, v] of Object.entries(p.env)) if (v !== undefined && !unused.has(k)) env[k] = String(v);
  Object.assign(env, {
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
    PORT: String(port),
    NODE_ENV: 'test',
    APOLLO_TELEMETRY_DISABLED: '1',
  });
  const proc = spawnOwned(process.execPath, ['--import', 'tsx', 'gateway/src/index.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() && output.length < 1000) output.push(line);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + GATEWAY_START_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`the measured gateway exited (${proc.exitCode ?? proc.signalCode}) before it was healthy:\n${output.slice(-30).join('\n')}`);
    }
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      await stopProcess(proc, 'SIGKILL', 1000);
      throw new Error(`the measured gateway was not healthy within ${GATEWAY_START_MS / 1000} s:\n${output.slice(-30).join('\n')}`);
    }
    await sleep(200);
  }
  if (proc.pid === undefined) throw new Error('the measured gateway has no pid');
  return { proc, pid: proc.pid, port, url: `${url}/graphql`, output, stop: () => stopProcess(proc, 'SIGTERM', 10_000) };
}

/** The gateway's Prometheus counters and gauges, summed over their labels. */
async function scrape(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/metrics: HTTP ${res.status}`);
  const values = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m) values.set(m[1] as string, (values.get(m[1] as string) ?? 0) + Number(m[2]));
  }
  return values;
}

/**
 * Posts one GraphQL request over a keep-alive agent and resolves to the parsed body and the moment
 * its last byte arrived (taken in the response's own handler, before any continuation queues).
 */
function postGraphql<T>(url: URL, agent: http.Agent, token: string, body: string): Promise<{ status: number | undefined; text: string; parsed: { data?: T | null; errors?: unknown[] }; at: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const at = performance.now();
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode, text, parsed: JSON.parse(text) as { data?: T | null; errors?: unknown[] }, at });
          } catch {
            reject(new Error(`createSale: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 300)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Sells one unit of the tenant's product through the in-process gateway; throws on any error. */
function seller(url: URL, agent: http.Agent) {
  const query = contractOperation('CreateSale');
  return async (tenant: TenantSetup): Promise<SaleRecord> => {
    const input = { branchId: tenant.branchId, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId: tenant.productId, quantity: 1 }] };
    const body = JSON.stringify({ operationName: 'CreateSale', query, variables: { input } });
    const sentAt = performance.now();
    const r = await postGraphql<{ createSale: { id: string } | null }>(url, agent, tenant.token, body);
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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
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

/**
 * Stops the embedded server. The platform's pools resolve `end()` once their connections are told
 * to terminate, not once they have closed; a connection still closing when the server shuts down
 * gets FATAL 57P01, which its pool would rethrow as an uncaught error. Give them a moment, and
 * ignore that one error while the server stops.
 */
async function stopEmbedded(embedded: { stop(): Promise<void> }): Promise<void> {
  const ignoreShutdown = (err: Error & { code?: string }): void => {
    if (err.code === '57P01') return;
    process.stderr.write(`subscriptions: ${err.stack ?? err.message}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', ignoreShutdown);
  try {
    await sleep(250);
    await embedded.stop();
  } finally {
    process.off('uncaughtException', ignoreShutdown);
  }
}

async function main(): Promise<void> {
  const opts = options();
  const cpus = os.cpus();
  out(`machine: ${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.platform()} ${os.release()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  out(`node ${process.version}; tenants: ${opts.tenants}, subscribers: ${opts.subscribers}, rate: ${opts.rate} sales/s for ${opts.seconds} s`);

  let embedded: { url: string; stop(): Promise<void> } | undefined;
  let redis: { url: string; port: number; stop(): Promise<void> } | undefined;
  let p: TestPlatform | undefined;
  let gateway: ChildGateway | undefined;
  const subscribers: Subscriber[] = [];
  const closing = { now: false };
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  try {
    if (!process.env.DATABASE_URL) {
      embedded = await startEmbeddedPostgres();
      process.env.DATABASE_URL = embedded.url;
    }
    let redisUrl = process.env.REDIS_URL;
    if (!redisUrl) {
      redis = await startPrivateRedis();
      redisUrl = redis.url;
    }
    p = await startTestPlatform({ REDIS_URL: redisUrl, RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_MINUTE: '10000000' });
    const platform = p;

    const tenants: TenantSetup[] = [];
    const expiryDate = addDays(dateInZone('Africa/Lusaka'), 300);
    for (let i = 0; i < opts.tenants; i++) {
      const t = await createTenant(platform, { branchCount: 1 });
      const branch = t.branches[0];
      if (!branch) throw new Error('createTenant returned no branch');
      const product = await platform.ok<{ createProduct: { id: string } }>(
        contractOperation('CreateProduct'),
        { input: { sku: `SUB-BENCH-${i + 1}`, name: `Subscription bench ${i + 1}`, requiresPrescription: false, controlledSubstance: false } },
        { token: t.adminToken },
      );
      const productId = product.createProduct.id;
      // Through the API rather than SQL: one receipt per tenant is cheap, and it keeps the ledger.
      await platform.ok(
        contractOperation('ReceiveStock'),
        { input: { branchId: branch.id, productId, batchNumber: `SUB-BENCH-${i + 1}-B`, expiryDate, quantity: UNITS, costPrice: '1.00', sellingPrice: '2.00' } },
        { token: t.adminToken },
      );
      // Subscribers spread as evenly as the count allows; the first tenants take any remainder.
      const count = Math.floor(opts.subscribers / opts.tenants) + (i < opts.subscribers % opts.tenants ? 1 : 0);
      tenants.push({ index: i, token: t.adminToken, branchId: branch.id, productId, subscribers: count });
    }

    gateway = await startChildGateway(platform, redisUrl);
    const hz = clockTicks();
    const idle = readProc(gateway.pid);
    out(
      `fixture: ${opts.tenants} tenants, 1 branch and 1 product (${UNITS} units) each; redis: ${redis ? `private redis-server on port ${redis.port}` : 'REDIS_URL'}; ` +
        `measured gateway: pid ${gateway.pid}, port ${gateway.port}, RSS ${mib(idle.rssKiB)} MiB idle`,
    );

    const deliveries = new Deliveries(opts.subscribers);
    const query = contractOperation('SaleCompleted');
    const connectStarted = performance.now();
    const plan = tenants.flatMap((t) => Array.from({ length: t.subscribers }, () => t));
    for (let from = 0; from < plan.length; from += CONNECT_BATCH) {
      const batch = plan.slice(from, from + CONNECT_BATCH);
      const settled = await Promise.allSettled(batch.map((t, i) => connectSubscriber(gateway!.url, query, from + i, t, deliveries, closing)));
      for (const s of settled) if (s.status === 'fulfilled') subscribers.push(s.value);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    const connectMs = performance.now() - connectStarted;

    // graphql-ws has no acknowledgement for a subscribe message: the gateway's own gauge says when
    // every subscription has reached its hub.
    const registered = Date.now() + LIVE_TIMEOUT_MS;
    for (;;) {
      const live = (await scrape(gateway.port)).get('ws_subscriptions') ?? 0;
      if (live >= opts.subscribers) break;
      if (Date.now() > registered) throw new Error(`the measured gateway reports ${live} live subscriptions of ${opts.subscribers} after ${LIVE_TIMEOUT_MS / 1000} s`);
      await sleep(100);
    }

    // Live end to end: one sale per tenant must reach every subscriber of that tenant.
    const sell = seller(new URL(platform.url), agent);
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
    out(`subscribers: ${subscribers.length} connected in ${(connectMs / 1000).toFixed(1)} s (batches of ${CONNECT_BATCH}), all live (each received its tenant's warm-up sale)`);
    out('');

    const before = await scrape(gateway.port);
    const sampler = sampleProcess(gateway.pid, hz);
    const selfBefore = process.cpuUsage();
    const total = opts.rate * opts.seconds;
    const load = await runLoad(sell, tenants, total, opts.rate);
    const usage = sampler.stop();
    const self = process.cpuUsage(selfBefore);
    const lastResponse = load.sales.reduce((m, s) => Math.max(m, s.respondedAt), 0);

    const expected = load.sales.reduce((n, s) => n + s.tenant.subscribers, 0);
    const deliveredNow = () => load.sales.reduce((n, s) => n + deliveries.of(s.id).length, 0);
    while (deliveredNow() < expected && performance.now() - lastResponse < STRAGGLER_MS) await sleep(50);
    const after = await scrape(gateway.port);

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
    out(`createSale (in-process gateway): p50 ${percentile(sold, 50).toFixed(1)} ms, p95 ${percentile(sold, 95).toFixed(1)} ms, p99 ${percentile(sold, 99).toFixed(1)} ms`);
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

    const cpuMean = usage.cpu.reduce((a, b) => a + b, 0) / usage.cpu.length;
    out(`measured gateway (pid ${gateway.pid}), ${usage.cpu.length} samples every ${SAMPLE_MS} ms during the load (${(load.wallMs / 1000).toFixed(1)} s), CLK_TCK ${hz}`);
    out(`  CPU, % of one core: mean ${cpuMean.toFixed(1)}, max ${Math.max(...usage.cpu).toFixed(1)}`);
    out(
      `  RSS MiB: idle ${mib(idle.rssKiB)}, start ${mib(usage.rss[0] ?? NaN)}, max ${mib(Math.max(...usage.rss))}, end ${mib(usage.rss[usage.rss.length - 1] ?? NaN)}`,
    );
    // For context: when this process is near a full core, the load and the arrival times are its limits, not the gateway's.
    out(`this process (platform, relay, load, subscribers): ${(((self.user + self.system) / 1000 / load.wallMs) * 100).toFixed(1)} % of one core during the load`);
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
    if (gateway.output.length > 0) {
      out('');
      out(`measured gateway wrote ${gateway.output.length} log lines${gateway.output.length >= 1000 ? ' (first 1000 kept)' : ''}; first 5:`);
      for (const line of gateway.output.slice(0, 5)) out(`  ${line.slice(0, 400)}`);
    }
  } finally {
    closing.now = true;
    // Subscribers before the gateway, so its shutdown does not count as their failure.
    await Promise.all(subscribers.map((s) => s.client.dispose())).catch(() => undefined);
    agent.destroy();
    if (gateway) await gateway.stop();
    if (p) await p.close();
    if (redis) await redis.stop();
    if (embedded) await stopEmbedded(embedded);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`subscriptions: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
