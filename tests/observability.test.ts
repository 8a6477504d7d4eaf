import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { addDays, dateInZone } from '@umi/kit';
import { startJobRunner, type JobRunner } from '@umi/platform';
import { contractOperation as op, createTenant, createUser, openTillSession, startTestPlatform, type TestPlatform } from '@umi/testkit';
import { dashboardQueries, exportedMetricNames, promqlMetricNames, ruleQueries, unknownMetrics, type Query } from '@umi/testkit/observability';

const root = join(__dirname, '..');
const DASHBOARDS = join(root, 'deploy/grafana/dashboards');
const RULES = join(root, 'deploy/prometheus/alerts.yml');

/** The design document's metrics, and the backlogs and pool use the dashboards and alerts watch. */
const DESIGN_METRICS = [
  'graphql_request_duration_seconds_bucket',
  'tenants_active_total',
  'branches_active_total',
  'prescriptions_processed_total',
  'sales_completed_total',
  'cache_hit_rate',
  'outbox_relay_lag_seconds',
  'fiscal_backlog',
  'fiscal_backlog_oldest_seconds',
  'payment_backlog',
  'payment_backlog_oldest_seconds',
  'db_pool_connections',
  'db_pool_waiting',
  'subgraph_request_duration_seconds_bucket',
];

/** One gauge's value on a /metrics page (the sum over its series). */
function value(exposition: string, name: string): number {
  let sum = 0;
  let seen = false;
  for (const m of exposition.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    sum += Number(m[1]);
    seen = true;
  }
  if (!seen) throw new Error(`${name} has no sample`);
  return sum;
}

describe('PromQL metric names', () => {
  it('keeps metric names and drops functions, aggregations, labels, keywords, ranges and variables', () => {
    expect(
      promqlMetricNames(
        'sum by (service, le) (rate(a_bucket{status="error", x=~"b_total"}[$__rate_interval])) / on(service) group_left(cache) clamp_min(b_total offset 5m, 1e-9) > bool 0.5 and c unless histogram_quantile(0.95, d_bucket[5m:1m])',
      ).sort(),
    ).toEqual(['a_bucket', 'b_total', 'c', 'd_bucket']);
    expect(promqlMetricNames('max(outbox_relay_lag_seconds) > 60')).toEqual(['outbox_relay_lag_seconds']);
    expect(promqlMetricNames('vector(1) * 60')).toEqual([]);
  });

  it('reads the exported names of a /metrics page, unobserved labelled families included', () => {
    const names = exportedMetricNames(
      ['# HELP h a histogram', '# TYPE h histogram', '# TYPE c counter', 'c{service="pos"} 3', '# TYPE g gauge', 'g 1'].join('\n'),
    );
    expect([...names].sort()).toEqual(['c', 'g', 'h', 'h_bucket', 'h_count', 'h_sum']);
  });
});

describe('dashboards and alert rules', () => {
  let p: TestPlatform;
  let jobs: JobRunner;
  let exposition: Record<string, string>;
  let exported: Set<string>;
  let queries: Query[];

  beforeAll(async () => {
    // With the caches on, as in production: cache_hit_rate exists only then.
    p = await startTestPlatform({ CACHE_ENABLED: 'true' });
    // The job runner is a process of its own (scripts/jobs.ts): started here for its /metrics.
    jobs = await startJobRunner({ env: p.env, schedule: false });
    // A request through the gateway and a tenant with branches, so the counters and gauges have something to show.
    await p.loginSuperAdmin();
    exposition = await scrapeAll();
    exported = new Set(Object.values(exposition).flatMap((text) => [...exportedMetricNames(text)]));
    queries = [...dashboardQueries(DASHBOARDS), ...ruleQueries(RULES)];
  });
  afterAll(async () => {
    await jobs?.close();
    await p?.close();
  });

  async function scrapeAll(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const service of ['gateway', 'tenant', 'pharmacy', 'inventory', 'pos', 'relay', 'fiscal'] as const) {
      const res = await fetch(p.metricsUrl(service));
      expect([service, res.status]).toEqual([service, 200]);
      out[service] = await res.text();
    }
    out.jobs = await jobs.metrics.text();
    return out;
  }

  it('every process exports the metrics the design document names', () => {
    expect(DESIGN_METRICS.filter((n) => !exported.has(n))).toEqual([]);
    // The relay's lag and the fiscal backlog come from their own registries, now served.
    expect(exportedMetricNames(exposition.relay!).has('outbox_relay_lag_seconds')).toBe(true);
    expect(exportedMetricNames(exposition.fiscal!).has('fiscal_backlog_oldest_seconds')).toBe(true);
  });

  it('query only metrics that the platform exports', () => {
    expect(queries.length).toBeGreaterThan(15);
    expect(unknownMetrics(queries, exported)).toEqual([]);
    // Every design metric is on a dashboard or in a rule (the backlogs and lag in both).
    const queried = new Set(queries.flatMap((q) => promqlMetricNames(q.expr)));
    expect(DESIGN_METRICS.filter((n) => !queried.has(n))).toEqual([]);
    for (const alerted of ['outbox_relay_lag_seconds', 'fiscal_backlog_oldest_seconds', 'payment_backlog_oldest_seconds', 'graphql_request_duration_seconds_count', 'jobs_failed', 'jobs_oldest_pending_seconds']) {
      expect(ruleQueries(RULES).some((q) => promqlMetricNames(q.expr).includes(alerted))).toBe(true);
    }
  });

  it('fails on a dashboard that queries a metric nobody exports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'umi-dashboards-'));
    cpSync(DASHBOARDS, dir, { recursive: true });
    const file = join(dir, 'umi-business.json');
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    // A typo of a real name, the kind of mistake the test exists for.
    dashboard.panels[0]!.targets.push({ expr: 'sum(rate(sales_complete_total[5m]))' });
    writeFileSync(file, JSON.stringify(dashboard));
    expect(unknownMetrics(dashboardQueries(dir), exported)).toEqual([{ where: expect.stringContaining('umi-business.json') as string, missing: ['sales_complete_total'] }]);
  });

  it('counts active tenants and branches from the shared schema at scrape time', async () => {
    const before = await (await fetch(p.metricsUrl('tenant'))).text();
    await createTenant(p, { branchCount: 2 });
    const after = await (await fetch(p.metricsUrl('tenant'))).text();
    expect(value(after, 'tenants_active_total') - value(before, 'tenants_active_total')).toBe(1);
    expect(value(after, 'branches_active_total') - value(before, 'branches_active_total')).toBe(2);
    // A pool in use shows: the gateway's own requests went through the subgraphs' pools.
    expect(value(after, 'db_pool_connections')).toBeGreaterThan(0);
  });

  it('counts a completed sale once, after it committed, and not a refused one', async () => {
    const t = await createTenant(p, { branchCount: 1 });
    const branchId = t.branches[0]!.id;
    const product = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku: 'OBS-1', name: 'Observed tablets', requiresPrescription: false, controlledSubstance: false, taxCategory: 'STANDARD' } },
      { token: t.adminToken },
    );
    const productId = product.createProduct.id;
    await p.ok(
      op('ReceiveStock'),
      { input: { branchId, productId, batchNumber: 'B1', expiryDate: addDays(dateInZone('Africa/Lusaka'), 200), quantity: 5, costPrice: '1.00', sellingPrice: '2.00' } },
      { token: t.adminToken },
    );
    const cashier = await createUser(p, t, 'CASHIER', [branchId]);
    const { sessionId } = await openTillSession(p, t, cashier.token, branchId);
    const sold = async () => value(await (await fetch(p.metricsUrl('pos'))).text(), 'sales_completed_total');
    const before = await sold();
    const sale = (quantity: number) =>
      p.gql(
        'mutation($input: CreateSaleInput!) { createSale(input: $input) { id status } }',
        { input: { branchId, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId, quantity }], tillSessionId: sessionId } },
        { token: cashier.token },
      );
    expect((await sale(2)).errors).toBeUndefined();
    expect(await sold()).toBe(before + 1);
    // More than the branch holds: refused, nothing committed, nothing counted.
    expect((await sale(50)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await sold()).toBe(before + 1);
  });

  it("labels the gateway's request histogram with known operation names only", async () => {
    await p.gql('query SomeoneElsesName { __typename }');
    const text = await (await fetch(p.metricsUrl('gateway'))).text();
    const operations = new Set([...text.matchAll(/graphql_request_duration_seconds_count\{[^}]*operation="([^"]*)"/g)].map((m) => m[1]));
    expect(operations.has('other')).toBe(true);
    expect(operations.has('SomeoneElsesName')).toBe(false);
  });
});
