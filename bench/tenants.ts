/**
 * A thousand tenants on one platform: what provisioning, size, start-up, migrations, load spread,
 * memory and a cold tenant's first request cost as the number of tenants grows, from one run.
 *
 *   npx tsx bench/tenants.ts [--tenants 1000] [--requests 2000] [--cold 200] [--clients 8]
 *
 * Quick mode for development: `--tenants 100 --requests 400 --cold 50`. Uses DATABASE_URL (a
 * PostgreSQL admin URL) when set, otherwise an embedded PostgreSQL. Run with `--child startup`
 * only by itself: that is the fresh platform instance whose start-up it times.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg, { Pool } from 'pg';
import { operation } from '@umi/clients';
import { TenantClients } from '@umi/db';
import { createAccessTokens, loadEnv, type Principal } from '@umi/kit';
import { startFederation } from '@umi/platform';
import { out, outHeader, percentile, positiveInt, postGraphql, row, runMain, stringOptions, tableIn, withPlatform } from './lib';

const LABEL = 'tenants';
const PRODUCTS_PER_TENANT = 5;

// Every statement any pg client of this process sends (the platform runs in-process), so that a
// request's SQL can be counted without pg_stat_statements, which is rarely preloaded.
let statements = 0;
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  statements++;
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** What a load or a cold request needs of one tenant. */
interface LoadTenant {
  schema: string;
  token: string;
  branchId: string;
}

function ms(n: number): string {
  return n.toFixed(1);
}
function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
function sorted(xs: number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Runs `ops` with `concurrency` in flight; resolves to each op's latency and the wall time. */
async function pooled(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const s = performance.now();
        await op(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - t0 };
}

function productsBody(branchId: string): string {
  return JSON.stringify({ operationName: 'Products', query: operation('Products'), variables: { first: 20, branchId } });
}

/** One `Products` request as the tenant's ADMIN; throws unless it answers products without errors. */
async function products(url: URL, agent: http.Agent, t: LoadTenant): Promise<void> {
  const r = await postGraphql<{ products?: { edges: unknown[] } }>('Products', url, agent, { authorization: `Bearer ${t.token}` }, productsBody(t.branchId));
  if (r.status !== 200 || r.parsed.errors?.length || r.parsed.data?.products?.edges.length !== PRODUCTS_PER_TENANT) {
    throw new Error(`Products for ${t.schema}: HTTP ${r.status}: ${r.text.slice(0, 400)}`);
  }
}

/**
 * The fresh instance: starts the whole platform in this new process against the database of the
 * parent, waits for the gateway's /readyz, then sends each tenant of the list its first request
 * (cold) and a second (warm). Prints one JSON line for the parent.
 */
async function child(): Promise<void> {
  const env = loadEnv(process.env);
  const federation = await startFederation(env, { ephemeralPorts: true });
  const readyz = federation.url.replace(/\/graphql$/, '/readyz');
  for (;;) {
    const r = await fetch(readyz).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const readyMs = performance.now();
  const tenants = JSON.parse(readFileSync(process.env.UMI_BENCH_TENANTS_FILE as string, 'utf8')) as LoadTenant[];
  const url = new URL(federation.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  // The process's own first-request costs (JIT, query plans, connections) belong to no tenant: one tenant takes them.
  const [first, ...rest] = tenants;
  for (let i = 0; i < 20; i++) await products(url, agent, first!);
  const cold: number[] = [];
  const warm: number[] = [];
  // On a loaded machine a request can fail (a pool or statement timeout): counted and shown, not fatal.
  const errors: string[] = [];
  const attempt = async (t: LoadTenant, into: number[]): Promise<void> => {
    const s = performance.now();
    try {
      await products(url, agent, t);
      into.push(performance.now() - s);
    } catch (err) {
      errors.push((err as Error).message.slice(0, 300));
    }
  };
  for (const t of rest) {
    await attempt(t, cold);
    await attempt(t, warm);
  }
  const rss = process.memoryUsage().rss;
  agent.destroy();
  await federation.close();
  process.stdout.write(`${JSON.stringify({ readyMs, cold, warm, rss, errors })}\n`);
}

/** Spawns `node --import tsx <args>` with `env`; resolves to its stdout and wall time, throwing on a non-zero exit. */
function runNode(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', reject);
    c.on('exit', (code) => {
      const wallMs = performance.now() - t0;
      if (code === 0) resolve({ stdout, stderr, wallMs });
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

async function main(): Promise<void> {
  const values = stringOptions({ tenants: '1000', requests: '2000', cold: '200', clients: '8', child: '' });
  if (values.child === 'startup') return child();
  const n = positiveInt(values.tenants, '--tenants');
  const requests = positiveInt(values.requests, '--requests');
  const coldCount = Math.min(positiveInt(values.cold, '--cold'), n - 1);
  const clients = positiveInt(values.clients, '--clients');
  outHeader(`tenants: ${n}, load requests per spread: ${requests} with ${clients} clients, cold tenants sampled: ${coldCount}`);
  out('');

  await withPlatform(
    LABEL,
    async (p) => {
      const owner = p.db.pool;
      const catalogSize = async (): Promise<number> =>
        Number(
          (
            await owner.query<{ b: string }>(
              `SELECT sum(pg_total_relation_size(c.oid))::bigint AS b FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog' AND c.relkind = 'r'`,
            )
          ).rows[0]!.b,
        );
      const catalogBefore = await catalogSize();
      const superToken = await p.loginSuperAdmin();
      const url = new URL(p.url);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

      // --- Provisioning: per hundred, the first half one at a time, the second half 4 side by side.
      out('provisioning (createTenant through the gateway, SUPER_ADMIN)');
      out(row(['tenants', '1: p50 ms', 'p95 ms', 'tenants/s', '4: p50 ms', 'p95 ms', 'tenants/s', 'x'], [9, 10, 8, 10, 10, 8, 10, 6]));
      const createBody = (i: number): string => {
        const subdomain = `bt${String(i).padStart(5, '0')}-${Math.random().toString(36).slice(2, 8)}`;
        return JSON.stringify({
          query: 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
          variables: { input: { name: `Pharmacy ${subdomain}`, subdomain, plan: 'professional', adminEmail: `admin@${subdomain}.test`, adminPassword: 'Admin-Password-123', adminFirstName: 'Ada', adminLastName: 'Admin' } },
        });
      };
      let made = 0;
      const create = async (): Promise<void> => {
        const i = made++;
        const r = await postGraphql<{ createTenant?: { id: string } }>('createTenant', url, agent, { authorization: `Bearer ${superToken}` }, createBody(i));
        if (r.parsed.errors?.length || !r.parsed.data?.createTenant) throw new Error(`createTenant ${i}: ${r.text.slice(0, 400)}`);
      };
      const provisionStart = performance.now();
      for (let base = 0; base < n; base += 100) {
        const size = Math.min(100, n - base);
        const serialCount = Math.ceil(size / 2);
        const serial = await pooled(serialCount, 1, create);
        const parallel = await pooled(size - serialCount, 4, create);
        const s = sorted(serial.latencies);
        const q = sorted(parallel.latencies);
        const r1 = serial.latencies.length / (serial.wallMs / 1000);
        const r4 = parallel.latencies.length / (parallel.wallMs / 1000);
        out(row([`${base + 1}-${base + size}`, ms(percentile(s, 50)), ms(percentile(s, 95)), r1.toFixed(1), ms(percentile(q, 50)), ms(percentile(q, 95)), r4.toFixed(1), (r4 / r1).toFixed(2)], [9, 10, 8, 10, 10, 8, 10, 6]));
      }
      out(`  all ${n} in ${((performance.now() - provisionStart) / 1000).toFixed(1)} s`);
      out('');

      // --- Size per tenant: the schemas' relations and bytes, and what the catalog grew by.
      const size = (
        await owner.query<{ schemas: string; rels: string; tables: string; indexes: string; bytes: string }>(
          `SELECT count(DISTINCT n.oid)::int AS schemas, count(*)::int AS rels,
                  count(*) FILTER (WHERE c.relkind = 'r')::int AS tables, count(*) FILTER (WHERE c.relkind = 'i')::int AS indexes,
                  coalesce(sum(pg_relation_size(c.oid)), 0)::bigint AS bytes
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'tenant\\_%'`,
        )
      ).rows[0]!;
      const schemas = Number(size.schemas);
      const catalogAfter = await catalogSize();
      const dbBytes = Number((await owner.query<{ b: string }>('SELECT pg_database_size(current_database())::bigint AS b')).rows[0]!.b);
      out('size per tenant (empty schema, after provisioning)');
      out(`  relations: ${(Number(size.rels) / schemas).toFixed(0)} (tables ${(Number(size.tables) / schemas).toFixed(0)}, indexes ${(Number(size.indexes) / schemas).toFixed(0)}; the rest sequences, TOAST, views)`);
      out(`  schema on disk (sum of pg_relation_size): ${(Number(size.bytes) / schemas / 1024).toFixed(0)} KiB`);
      out(`  catalog growth: ${((catalogAfter - catalogBefore) / schemas / 1024).toFixed(0)} KiB per tenant (pg_catalog now ${mib(catalogAfter)} MiB); database ${mib(dbBytes)} MiB`);
      out('');

      // --- A branch (through the API) and products (straight into the schema) per tenant, and an ADMIN token.
      const tokens = createAccessTokens({ secret: p.env.JWT_SECRET, issuer: p.env.JWT_ISSUER, audience: p.env.JWT_AUDIENCE, ttlSeconds: p.env.ACCESS_TOKEN_TTL_SECONDS });
      const admins = (
        await owner.query<{ user_id: string; email: string; tenant_id: string; subdomain: string; schema_name: string }>(
          `SELECT u.id::text AS user_id, u.email, t.id::text AS tenant_id, t.subdomain, t.schema_name
             FROM shared.users u JOIN shared.tenants t ON t.id = u.tenant_id WHERE u.role = 'ADMIN' AND t.subdomain LIKE 'bt%' ORDER BY t.subdomain`,
        )
      ).rows;
      const load: LoadTenant[] = [];
      const fixtureStart = performance.now();
      await pooled(admins.length, 4, async (i) => {
        const a = admins[i]!;
        const principal: Principal = {
          userId: a.user_id,
          email: a.email,
          role: 'ADMIN',
          tenantId: a.tenant_id,
          tenantSubdomain: a.subdomain,
          branchIds: [],
          permissions: { canViewAllBranches: false, canManageAllBranches: false, canTransferStock: false, canViewReports: [], canProcessSales: [] },
        };
        const token = await tokens.sign(principal);
        const b = await postGraphql<{ createBranch?: { id: string } }>(
          'createBranch',
          url,
          agent,
          { authorization: `Bearer ${token}` },
          JSON.stringify({ query: 'mutation($input: CreateBranchInput!) { createBranch(input: $input) { id } }', variables: { input: { name: 'Main', code: 'BR01' } } }),
        );
        if (b.parsed.errors?.length || !b.parsed.data?.createBranch) throw new Error(`createBranch: ${b.text.slice(0, 400)}`);
        const t = tableIn(a.schema_name);
        await owner.query(`INSERT INTO ${t('products')} (sku, name) SELECT 'SKU-' || g, 'Product ' || g FROM generate_series(1, ${PRODUCTS_PER_TENANT}) g`);
        load[i] = { schema: a.schema_name, token, branchId: b.parsed.data.createBranch.id };
      });
      out(`fixture: a branch and ${PRODUCTS_PER_TENANT} products per tenant, ${((performance.now() - fixtureStart) / 1000).toFixed(1)} s`);
      out('');

      // --- Start-up of a fresh platform process against the same database, then cold tenants.
      const dir = mkdtempSync(join(tmpdir(), 'umi-bench-tenants-'));
      const file = join(dir, 'tenants.json');
      // Tenant 0 warms the child; the cold sample is spread over the whole list.
      const step = Math.max(1, Math.floor(n / coldCount));
      writeFileSync(file, JSON.stringify([load[0], ...Array.from({ length: coldCount }, (_, i) => load[Math.min(n - 1, 1 + i * step)])]));
      const childEnv: Record<string, string> = {};
      // Ports are the child's own (ephemeral); everything else, secrets included, is the platform's.
      for (const [k, v] of Object.entries(p.env)) if (v !== undefined && typeof v !== 'object' && !/(^|_)PORT$/.test(k)) childEnv[k] = String(v);
      childEnv.UMI_BENCH_TENANTS_FILE = file;
      childEnv.LOG_LEVEL = 'silent';
      const run = await runNode(['bench/tenants.ts', '--child', 'startup'], childEnv);
      const c = JSON.parse(run.stdout.trim().split('\n').pop() as string) as { readyMs: number; cold: number[]; warm: number[]; rss: number; errors: string[] };
      out(`start-up with ${n} tenants (a fresh process: whole platform in-process, until the gateway's /readyz answers 200)`);
      out(`  ${ms(c.readyMs)} ms from the process's start (module loading included)`);
      const cs = sorted(c.cold);
      const ws = sorted(c.warm);
      out(`cold tenant, first Products request in that fresh process (${cs.length} tenants, one at a time, after one warm-up tenant)`);
      out(`  first: p50 ${ms(percentile(cs, 50))} ms, p95 ${ms(percentile(cs, 95))} ms, max ${ms(cs[cs.length - 1] ?? NaN)} ms; second: p50 ${ms(percentile(ws, 50))} ms, p95 ${ms(percentile(ws, 95))} ms; child RSS ${mib(c.rss)} MiB`);
      if (c.errors.length) out(`  ${c.errors.length} requests failed, first: ${c.errors[0]}`);
      out('');

      // --- `npm run db:migrate` with nothing to do.
      const migrate = await runNode(['scripts/migrate.ts'], { DATABASE_URL: p.db.url, LOG_LEVEL: 'info' });
      const applied = /"ms":(\d+)/.exec(migrate.stdout)?.[1];
      out(`db:migrate with nothing to do: ${ms(migrate.wallMs)} ms wall (node start-up included), ${applied ?? '?'} ms inside the run`);
      out('');

      // --- Products load: 10 tenants vs all of them, round-robin, alternating blocks.
      const idleStart = statements;
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const idlePerSecond = (statements - idleStart) / 4;
      const loadAgent = new http.Agent({ keepAlive: true, maxSockets: clients });
      const spreads = [
        { name: '10 tenants', tenants: load.slice(0, 10) },
        { name: `${n} tenants`, tenants: load },
      ];
      const acc = spreads.map(() => ({ latencies: [] as number[], wallMs: 0, statements: 0 }));
      // Warm-up: the 10 tenants' first requests (the N-tenant spread meets its own cold ones as the load would).
      for (const s of spreads) {
        let k = 0;
        await pooled(Math.min(200, s.tenants.length * 2), clients, () => products(url, loadAgent, s.tenants[k++ % s.tenants.length]!));
      }
      const block = 200;
      const loadErrors: string[] = [];
      const cursors = spreads.map(() => 0);
      for (let done = 0, round = 0; done < requests; done += block, round++) {
        // Blocks alternate, and which spread goes first alternates by round.
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) {
          const s = spreads[i]!;
          const st = statements;
          const r = await pooled(Math.min(block, requests - done), clients, () =>
            products(url, loadAgent, s.tenants[cursors[i]!++ % s.tenants.length]!).catch((err: Error) => {
              loadErrors.push(err.message.slice(0, 300));
            }),
          );
          acc[i]!.latencies.push(...r.latencies);
          acc[i]!.wallMs += r.wallMs;
          acc[i]!.statements += statements - st;
        }
      }
      loadAgent.destroy();
      out(`Products load, ${clients} clients, round-robin over the tenants (SQL/req counts every statement of the process, background included: ${idlePerSecond.toFixed(0)}/s at idle)`);
      out(row(['spread', 'requests', 'req/s', 'p50 ms', 'p95 ms', 'SQL/req'], [14, 9, 8, 8, 8, 8]));
      const rates: number[] = [];
      for (const [i, s] of spreads.entries()) {
        const a = acc[i]!;
        const l = sorted(a.latencies);
        const rps = l.length / (a.wallMs / 1000);
        rates.push(rps);
        out(row([s.name, String(l.length), rps.toFixed(0), ms(percentile(l, 50)), ms(percentile(l, 95)), (a.statements / l.length).toFixed(1)], [14, 9, 8, 8, 8, 8]));
      }
      if (loadErrors.length) out(`  ${loadErrors.length} requests failed (counted in the latencies above), first: ${loadErrors[0]}`);
      out(`  ${n} tenants keep ${((rates[1]! / rates[0]!) * 100).toFixed(0)}% of the 10-tenant throughput`);
      gc();
      const mem = process.memoryUsage();
      out(`process (whole platform + bench client) after touching all ${n} tenants: RSS ${mib(mem.rss)} MiB, heap used ${mib(mem.heapUsed)} MiB`);
      out('');

      // --- Tenant clients alone: build one per schema over one pool.
      const pool = new Pool({ connectionString: p.db.url, max: 2 });
      try {
        for (const kind of ['db', 'client'] as const) {
          const tc = new TenantClients(pool, n + 1);
          // The first client of a process loads what all share (the query compiler): not a per-client cost.
          tc.get('tenant_bench_warmup');
          gc();
          const before = process.memoryUsage();
          const t0 = performance.now();
          for (const t of load.slice(1)) {
            if (kind === 'db') tc.db(t.schema);
            else tc.get(t.schema);
          }
          const took = performance.now() - t0;
          gc();
          const after = process.memoryUsage();
          out(
            `tenant clients (${kind === 'db' ? 'TenantDb views, tc.db(schema)' : 'Prisma clients, tc.get(schema)'}): ${((load.length - 1) / (took / 1000)).toFixed(0)}/s, ` +
              `${((after.heapUsed - before.heapUsed) / (load.length - 1) / 1024).toFixed(1)} KiB heap and ${((after.rss - before.rss) / (load.length - 1) / 1024).toFixed(1)} KiB RSS each; ` +
              `stats ${JSON.stringify(tc.stats())}`,
          );
          await tc.close();
        }
      } finally {
        await pool.end();
      }
      agent.destroy();
    },
    { TENANT_CLIENT_CACHE_SIZE: String(Math.max(100, n + 10)), MAX_IN_FLIGHT: '1000', MAX_IN_FLIGHT_PER_TENANT: '1000' },
  );
}

runMain(LABEL, main);
