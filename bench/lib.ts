/**
 * What the bench scripts share: output, options, the machine header, alternating timed blocks and
 * their statistics, keep-alive GraphQL posts, and the database and platform they run on. Each
 * script keeps what it measures and how it reports it beyond the common table.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool, type PoolClient } from 'pg';
import { quoteIdent } from '@umi/db';
import { createAccessTokens, createInternalTokens, type Principal } from '@umi/kit';
import { createTestDatabase, startTestPlatform, SUPER_ADMIN, type TestPlatform } from '@umi/testkit';
import { gatewayClient, startPlatformProcesses, Supervisor } from '@umi/testkit/processes';
import { loadEnv } from '@umi/kit';
import { startEmbeddedPostgres } from '@umi/db/embedded-postgres';

/** Report lines go straight to stdout: the lint rule bans console, and the figures need none of its formatting. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** A mistyped count should stop the run before the platform starts, naming the flag. */
export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/**
 * `--processes`: every request bench can run the platform as docker compose does (four subgraphs,
 * the relay and a gateway, each its own Node process, Redis between them) instead of in-process.
 */
const PROCESSES_FLAG = '--processes';
export const asProcesses = process.argv.includes(PROCESSES_FLAG);

/** Every bench option is a string with a default, checked by the script: one call declares them all (unknown flags still fail). */
export function stringOptions<K extends string>(defaults: Record<K, string>): Record<K, string> {
  const options = Object.fromEntries(Object.entries<string>(defaults).map(([name, value]) => [name, { type: 'string' as const, default: value }]));
  return parseArgs({ options, args: process.argv.slice(2).filter((a) => a !== PROCESSES_FLAG) }).values as Record<K, string>;
}

/** The options every alternating-block bench takes, so that they are read and checked alike. */
export function blockOptions(values: { requests: string; concurrency: string; warmup: string; block: string }) {
  return {
    requests: positiveInt(values.requests, '--requests'),
    concurrency: values.concurrency.split(',').map((c) => positiveInt(c.trim(), '--concurrency')),
    warmup: positiveInt(values.warmup, '--warmup'),
    block: positiveInt(values.block, '--block'),
  };
}

/** Figures mean something only beside the machine and Node that made them: every run starts with both. */
export function outHeader(settings: string): void {
  const cpus = os.cpus();
  out(`machine: ${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.platform()} ${os.release()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  out(`node ${process.version}; ${settings}`);
}

/** One nearest-rank definition, so that a p95 means the same in every bench's output. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/** The figures every comparison reads: count and throughput for capacity, three percentiles for the tail. */
export interface Stats {
  count: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  /**
   * CPU this process spent per operation (user + system, ms) over the path's blocks. In-process
   * it is the whole platform's share (client, gateway, subgraphs; not PostgreSQL), and unlike
   * latency it hardly moves when other work shares the machine's cores.
   */
  cpuMs: number;
}

/** Throughput is counted over the blocks' own wall time, not the run's, so alternation costs no path anything. */
function stats(latencies: number[], wallMs: number, cpuMicros: number): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    cpuMs: cpuMicros / 1000 / Math.max(1, sorted.length),
    count: sorted.length,
    rps: sorted.length / (wallMs / 1000),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

/** A measured operation resolves to its own latency in ms, so that each bench decides where its clock stops. */
export type Timed = () => Promise<number>;

/** Most operations are timed from the call to the settled answer, checks and parsing included. */
export function timed(op: () => Promise<unknown>): Timed {
  return async () => {
    const t0 = performance.now();
    await op();
    return performance.now() - t0;
  };
}

/** Runs `count` operations with `concurrency` in flight; returns the latencies and the wall time. */
async function runBlock(op: Timed, count: number, concurrency: number): Promise<{ latencies: number[]; wallMs: number; cpuMicros: number }> {
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        latencies.push(await op());
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { latencies, wallMs: performance.now() - started, cpuMicros: cpu.user + cpu.system };
}

/** Paths are compared level by level, so the figures stay grouped by concurrency. */
export interface LevelResult<P extends string> {
  concurrency: number;
  r: Record<P, Stats>;
}

/** Paths are compared within one run, so machine noise (and a table's growth) must fall on all of them alike. */
export async function measure<P extends string>(
  paths: readonly P[],
  ops: Record<P, Timed>,
  opts: { requests: number; concurrency: number[]; warmup: number; block: number },
  beforeBlock?: (name: P) => Promise<void>,
): Promise<LevelResult<P>[]> {
  // First a warm-up block per path (connections, JIT, caches) at the highest concurrency. Then, at
  // each concurrency level in turn, blocks alternate between the paths, rotating which goes first
  // each round. `beforeBlock` runs before every block, outside its timing.
  for (const name of paths) {
    await beforeBlock?.(name);
    await runBlock(ops[name], opts.warmup, Math.max(...opts.concurrency));
  }
  const results: LevelResult<P>[] = [];
  for (const concurrency of opts.concurrency) {
    const acc = new Map<P, { latencies: number[]; wallMs: number; cpuMicros: number }>(paths.map((name) => [name, { latencies: [], wallMs: 0, cpuMicros: 0 }]));
    const of = (name: P) => acc.get(name) as { latencies: number[]; wallMs: number; cpuMicros: number };
    let round = 0;
    while (paths.some((name) => of(name).latencies.length < opts.requests)) {
      const first = round % paths.length;
      for (const name of [...paths.slice(first), ...paths.slice(0, first)]) {
        const left = opts.requests - of(name).latencies.length;
        if (left <= 0) continue;
        await beforeBlock?.(name);
        const r = await runBlock(ops[name], Math.min(opts.block, left), concurrency);
        of(name).latencies.push(...r.latencies);
        of(name).wallMs += r.wallMs;
        of(name).cpuMicros += r.cpuMicros;
      }
      round++;
    }
    const r = Object.fromEntries(paths.map((name) => [name, stats(of(name).latencies, of(name).wallMs, of(name).cpuMicros)])) as Record<P, Stats>;
    results.push({ concurrency, r });
  }
  return results;
}

/** Aligned plain-text columns (first left, the rest right) that survive copying into a report. */
export function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

/** The per-path, per-concurrency table the request benches share, so that their outputs read alike. */
export function outStatsTable<P extends string>(
  paths: readonly P[],
  results: LevelResult<P>[],
  layout: { count: string; rate: string; rateDigits: number; widths: number[] },
): void {
  // With --processes this process is only the client, so its CPU says nothing of the platform's.
  out(row(['path', layout.count, layout.rate, 'p50 ms', 'p95 ms', 'p99 ms', asProcesses ? 'client cpu ms/op' : 'cpu ms/op'], [...layout.widths, 17]));
  for (const { concurrency, r } of results) {
    out(`concurrency ${concurrency}`);
    for (const name of paths) {
      const s = r[name];
      out(row([`  ${name}`, String(s.count), s.rps.toFixed(layout.rateDigits), s.p50.toFixed(2), s.p95.toFixed(2), s.p99.toFixed(2), s.cpuMs.toFixed(2)], [...layout.widths, 17]));
    }
  }
}

/** A bench needs the status and raw text to say why an answer was bad, and the arrival time to stop its clock at the last byte. */
export interface PostedGraphql<T> {
  status: number | undefined;
  text: string;
  parsed: { data?: T | null; errors?: unknown[] };
  /** When its last byte arrived, taken in the response's own handler before any continuation queues. */
  at: number;
}

/** fetch's connection pool would add its own queueing to the figures: this posts over the bench's keep-alive agent. */
export function postGraphql<T>(label: string, url: URL, agent: http.Agent, headers: Record<string, string>, body: string): Promise<PostedGraphql<T>> {
  // Throws (naming `label`) if the body is not JSON; the caller judges the answer.
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
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
            reject(new Error(`${label}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 300)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Whoever started the embedded server must stop it, with `stopEmbedded`. */
export type Embedded = Awaited<ReturnType<typeof startEmbeddedPostgres>>;

/** A bench runs on a bare machine too: without DATABASE_URL it starts its own PostgreSQL and points DATABASE_URL at it. */
export async function startDatabase(): Promise<Embedded | undefined> {
  if (process.env.DATABASE_URL) return undefined;
  const embedded = await startEmbeddedPostgres();
  process.env.DATABASE_URL = embedded.url;
  return embedded;
}

/** Stopping the embedded server must not crash the bench on the pools' late disconnects (57P01). */
export async function stopEmbedded(embedded: Embedded, label: string): Promise<void> {
  // A pool resolves `end()` once its connections are told to terminate, not once they have closed;
  // a connection still closing when the server shuts down gets FATAL 57P01, which its pool would
  // rethrow as an uncaught error. Give them a moment, and ignore that one error while the server stops.
  const ignoreShutdown = (err: Error & { code?: string }): void => {
    if (err.code === '57P01') return;
    process.stderr.write(`${label}: ${err.stack ?? err.message}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', ignoreShutdown);
  try {
    await new Promise((resolve) => setTimeout(resolve, 250));
    await embedded.stop();
  } finally {
    process.off('uncaughtException', ignoreShutdown);
  }
}

/** What a request bench opens beside the platform; `withPlatform` closes it, in the order the database needs. */
export interface Owned {
  /** A keep-alive agent for one path, so that connection set-up stays out of the figures. */
  agent(maxSockets: number): http.Agent;
  /** A pool on the test database of the bench's own, so that a floor never queues behind the platform's. */
  pool(max: number): Pool;
}

/** The platform as separate processes behind the TestPlatform a bench uses (gateway URL, env with subgraph URLs, database). */
async function startProcesses(label: string, overrides: Record<string, string>): Promise<TestPlatform> {
  const supervisor = new Supervisor({ name: label });
  let clean = false;
  const db = await createTestDatabase();
  try {
    supervisor.watchDatabase(db.url, process.env.DATABASE_URL as string);
    const redisUrl = process.env.REDIS_URL ?? (await supervisor.startRedis()).url!;
    const run = await startPlatformProcesses(supervisor, { databaseUrl: db.url, redisUrl, superAdmin: SUPER_ADMIN, gateways: ['gateway'], overrides });
    const client = gatewayClient(run.gateways[0]!, SUPER_ADMIN);
    clean = true;
    return {
      ...client,
      db,
      env: loadEnv(run.env),
      url: run.gateways[0]!.url!,
      metricsUrl: (service) => run.metricsUrls[service === 'gateway' ? 'gateway' : service]!,
      subgraph: () => {
        throw new Error('--processes: stopping one subgraph is not supported by the benches');
      },
      // The relay process publishes on its own.
      flushEvents: async () => {},
      async close() {
        await supervisor.stopAll();
        await supervisor.close(true);
        await db.drop();
      },
    };
  } finally {
    if (!clean) {
      await supervisor.close(false);
      await db.drop().catch(() => {});
    }
  }
}

/** The request benches start and stop the same things in the same order, however `body` ends. */
export async function withPlatform(label: string, body: (p: TestPlatform, own: Owned) => Promise<void>, extraSettings: Record<string, string> = {}): Promise<void> {
  let embedded: Embedded | undefined;
  let platform: TestPlatform | undefined;
  const agents: http.Agent[] = [];
  const pools: Pool[] = [];
  try {
    embedded = await startDatabase();
    const settings = {
      LOG_LEVEL: asProcesses ? 'warn' : 'silent',
      // Far above what the bench sends, so the gateway's rate limiter never answers for the API.
      RATE_LIMIT_BURST: '100000000',
      RATE_LIMIT_PER_MINUTE: '100000000',
      // The hot-read caches are on as in production; UMI_BENCH_CACHE=off measures without them.
      CACHE_ENABLED: process.env.UMI_BENCH_CACHE === 'off' ? 'false' : 'true',
      ...extraSettings,
    };
    const p = (platform = asProcesses ? await startProcesses(label, settings) : await startTestPlatform(settings));
    await body(p, {
      agent(maxSockets) {
        const a = new http.Agent({ keepAlive: true, maxSockets });
        agents.push(a);
        return a;
      },
      pool(max) {
        const pool = new Pool({ connectionString: p.db.url, max });
        pools.push(pool);
        return pool;
      },
    });
  } finally {
    for (const a of agents) a.destroy();
    // Before closing the platform: dropping the test database waits for every connection to it to go.
    for (const pool of pools) await pool.end();
    if (platform) await platform.close();
    if (embedded) await stopEmbedded(embedded, label);
  }
}

/** A request sent past the gateway must act for the same user: this is the principal the gateway reads from the access token. */
export async function principalOf(p: TestPlatform, accessToken: string): Promise<Principal> {
  const { principal } = await createAccessTokens({
    secret: p.env.JWT_SECRET,
    issuer: p.env.JWT_ISSUER,
    audience: p.env.JWT_AUDIENCE,
    ttlSeconds: p.env.ACCESS_TOKEN_TTL_SECONDS,
  }).verify(accessToken);
  return principal;
}

/**
 * The internal token a path that skips the gateway sends, signed for one subgraph as the gateway
 * would sign it for `principal`. Internal tokens live INTERNAL_TOKEN_TTL_SECONDS and a run takes
 * minutes, so `refresh()` signs a fresh one (a bench calls it before every block of that path,
 * outside the timed requests); `current()` also re-signs, inside a request, should one block
 * outlast half the token's life.
 */
export function internalTokenSource(p: TestPlatform, principal: Principal, audience: string) {
  const ttlSeconds = p.env.INTERNAL_TOKEN_TTL_SECONDS;
  const tokens = createInternalTokens(p.env.INTERNAL_JWT_SECRET, ttlSeconds);
  let token = '';
  let staleAt = 0;
  const refresh = async (): Promise<void> => {
    token = await tokens.sign({ rid: randomUUID(), ip: null, ua: null, usr: principal, th: null }, audience);
    staleAt = Date.now() + (ttlSeconds * 1000) / 2;
  };
  return {
    refresh,
    async current(): Promise<string> {
      if (Date.now() >= staleAt) await refresh();
      return token;
    },
  };
}
export type InternalTokenSource = ReturnType<typeof internalTokenSource>;

/** Fixture and floor SQL write straight into a tenant schema, whose name must be quoted. */
export function tableIn(schema: string): (name: string) => string {
  return (name) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Fixture writes and the SQL floors are all-or-nothing on a connection of their own; unlike @umi/db's inTransaction, a failed ROLLBACK never hides the error that caused it. */
export async function inPoolTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** A bench ends with an exit code and, on failure, one stack on stderr under its name, whatever handles are still open. */
export function runMain(label: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      process.stderr.write(`${label}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
