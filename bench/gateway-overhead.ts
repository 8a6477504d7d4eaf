/**
 * Gateway overhead: latency of the `Me` operation through the gateway against the same operation
 * sent straight to the tenant subgraph (with an internal token signed once up front), at each
 * requested concurrency, from one run.
 *
 *   npx tsx bench/gateway-overhead.ts [--requests 2000] [--concurrency 1,8] [--warmup 200] [--block 100]
 *
 * Uses DATABASE_URL (a PostgreSQL admin URL) when set, otherwise an embedded PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { INTERNAL_HEADER, createAccessTokens, createInternalTokens } from '@umi/kit';
import { createTenant, createUser, startTestPlatform, type TestPlatform } from '@umi/testkit';
import { startEmbeddedPostgres } from '../packages/db/src/embedded-postgres.mjs';

const ME = 'query Me { me { id email firstName lastName role tenant { id name subdomain plan } branches { id name code } } }';

type PathName = 'gateway' | 'direct';

interface Target {
  name: PathName;
  url: URL;
  headers: Record<string, string>;
  agent: http.Agent;
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
      requests: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '1,8' },
      warmup: { type: 'string', default: '200' },
      block: { type: 'string', default: '100' },
    },
  });
  return {
    requests: positiveInt(values.requests, '--requests'),
    concurrency: values.concurrency.split(',').map((c) => positiveInt(c.trim(), '--concurrency')),
    warmup: positiveInt(values.warmup, '--warmup'),
    block: positiveInt(values.block, '--block'),
  };
}

const BODY = JSON.stringify({ operationName: 'Me', query: ME, variables: {} });

/** Sends `Me` once and resolves to its latency in ms; throws unless the answer has data.me and no errors. */
function sendMe(t: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      t.url,
      {
        method: 'POST',
        agent: t.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), ...t.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const elapsed = performance.now() - started;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: { data?: { me?: unknown } | null; errors?: unknown[] };
          try {
            body = JSON.parse(text) as typeof body;
          } catch {
            reject(new Error(`${t.name}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 300)}`));
            return;
          }
          if (res.statusCode !== 200 || body.errors?.length || !body.data?.me) {
            reject(new Error(`${t.name}: HTTP ${res.statusCode}, bad answer: ${text.slice(0, 500)}`));
            return;
          }
          resolve(elapsed);
        });
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

/** Runs `count` requests with `concurrency` in flight; returns the latencies and the wall time. */
async function runBlock(t: Target, count: number, concurrency: number): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        latencies.push(await sendMe(t));
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

interface Stats {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

function stats(latencies: number[], wallMs: number): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: sorted.length,
    rps: sorted.length / (wallMs / 1000),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

/**
 * Measures both paths at one concurrency, alternating blocks (and which path goes first in each
 * round) so that machine noise falls on both alike.
 */
async function measure(targets: Record<PathName, Target>, requests: number, concurrency: number, block: number): Promise<Record<PathName, Stats>> {
  const acc: Record<PathName, { latencies: number[]; wallMs: number }> = {
    gateway: { latencies: [], wallMs: 0 },
    direct: { latencies: [], wallMs: 0 },
  };
  let round = 0;
  while (acc.gateway.latencies.length < requests || acc.direct.latencies.length < requests) {
    const order: PathName[] = round % 2 === 0 ? ['gateway', 'direct'] : ['direct', 'gateway'];
    for (const name of order) {
      const left = requests - acc[name].latencies.length;
      if (left <= 0) continue;
      const r = await runBlock(targets[name], Math.min(block, left), concurrency);
      acc[name].latencies.push(...r.latencies);
      acc[name].wallMs += r.wallMs;
    }
    round++;
  }
  return { gateway: stats(acc.gateway.latencies, acc.gateway.wallMs), direct: stats(acc.direct.latencies, acc.direct.wallMs) };
}

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(2)}`;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
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
    process.stderr.write(`gateway-overhead: ${err.stack ?? err.message}\n`);
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

async function main(): Promise<void> {
  const opts = options();
  const cpus = os.cpus();
  out(`machine: ${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.platform()} ${os.release()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  out(`node ${process.version}; requests per path per concurrency: ${opts.requests}, warm-up: ${opts.warmup} per path, block: ${opts.block}`);
  out('');

  let embedded: { url: string; stop(): Promise<void> } | undefined;
  let p: TestPlatform | undefined;
  const agents: http.Agent[] = [];
  try {
    if (!process.env.DATABASE_URL) {
      embedded = await startEmbeddedPostgres();
      process.env.DATABASE_URL = embedded.url;
    }
    p = await startTestPlatform({
      LOG_LEVEL: 'silent',
      // Far above what the bench sends, so the gateway's rate limiter never answers for the API.
      RATE_LIMIT_BURST: '100000000',
      RATE_LIMIT_PER_MINUTE: '100000000',
    });
    const tenant = await createTenant(p, { branchCount: 2 });
    const user = await createUser(p, tenant, 'PHARMACIST', tenant.branches.map((b) => b.id));

    const { principal } = await createAccessTokens({
      secret: p.env.JWT_SECRET,
      issuer: p.env.JWT_ISSUER,
      audience: p.env.JWT_AUDIENCE,
      ttlSeconds: 3600,
    }).verify(user.token);
    // One internal token for the whole run: the gateway's own per-request signing is part of its overhead.
    const internal = await createInternalTokens(p.env.INTERNAL_JWT_SECRET, 60).sign({ rid: randomUUID(), ip: null, ua: null, usr: principal, th: null }, 'tenant');
    if (!p.env.TENANT_URL) throw new Error('platform did not report TENANT_URL');

    const agent = (): http.Agent => {
      const a = new http.Agent({ keepAlive: true, maxSockets: Math.max(...opts.concurrency) });
      agents.push(a);
      return a;
    };
    const targets: Record<PathName, Target> = {
      gateway: { name: 'gateway', url: new URL(p.url), headers: { authorization: `Bearer ${user.token}` }, agent: agent() },
      direct: { name: 'direct', url: new URL(p.env.TENANT_URL), headers: { [INTERNAL_HEADER]: internal }, agent: agent() },
    };

    for (const name of ['gateway', 'direct'] as const) await runBlock(targets[name], opts.warmup, Math.max(...opts.concurrency));

    const widths = [12, 8, 9, 8, 8, 8];
    const results: { concurrency: number; r: Record<PathName, Stats> }[] = [];
    for (const concurrency of opts.concurrency) {
      results.push({ concurrency, r: await measure(targets, opts.requests, concurrency, opts.block) });
    }

    out(row(['path', 'requests', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms'], widths));
    for (const { concurrency, r } of results) {
      out(`concurrency ${concurrency}`);
      for (const name of ['gateway', 'direct'] as const) {
        const s = r[name];
        out(row([`  ${name}`, String(s.requests), s.rps.toFixed(0), s.p50.toFixed(2), s.p95.toFixed(2), s.p99.toFixed(2)], widths));
      }
    }
    out('');
    for (const { concurrency, r } of results) {
      const g = r.gateway;
      const d = r.direct;
      out(
        `concurrency ${concurrency}: gateway/direct p50 = ${(g.p50 / d.p50).toFixed(2)}x, p95 = ${(g.p95 / d.p95).toFixed(2)}x; ` +
          `overhead p50 = ${signed(g.p50 - d.p50)} ms, p95 = ${signed(g.p95 - d.p95)} ms`,
      );
    }
  } finally {
    for (const a of agents) a.destroy();
    if (p) await p.close();
    if (embedded) await stopEmbedded(embedded);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`gateway-overhead: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
