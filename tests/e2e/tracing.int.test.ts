import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, createTestDatabase, createUser, openTillSession, SUPER_ADMIN, type TenantFixture, type TestDatabase, type TestPlatform } from '@umi/testkit';
import {
  gatewayClient,
  printTrace,
  redisServerOrSkip,
  startOtlpReceiver,
  startPlatformProcesses,
  Supervisor,
  type OtlpReceiver,
  type PlatformProcesses,
  type ReceivedSpan,
  type Service,
} from '@umi/testkit/processes';

const op = contractOperation;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SERVER = 2;

/**
 * Distributed tracing, with the platform as separate processes started as compose starts them
 * (`node --import tsx <entry>`, so the instrumentations patch http, pg and ioredis as they really
 * load), exporting over OTLP/HTTP to a receiver in this test: one CreateSale through the gateway is
 * one trace, from the gateway's HTTP span through Apollo Gateway's plan and fetches to each
 * subgraph's server span, its PostgreSQL queries and Redis commands.
 */
describe('OpenTelemetry tracing across the gateway and the subgraphs', () => {
  let supervisor: Supervisor;
  let db: TestDatabase;
  let receiver: OtlpReceiver;
  let platform: PlatformProcesses;
  let gateway: Service;
  let api: Pick<TestPlatform, 'gql' | 'ok' | 'loginSuperAdmin'>;
  let t: TenantFixture;
  let cashier: { token: string };
  let productId: string;
  let available = false;

  beforeAll(async () => {
    available = await redisServerOrSkip('the tracing suite (the platform as processes, with a Redis of its own)');
    if (!available) return;
    receiver = await startOtlpReceiver();
    supervisor = new Supervisor({ name: 'tracing test' });
    const redis = await supervisor.startRedis();
    db = await createTestDatabase();
    supervisor.watchDatabase(db.url, String(process.env.DATABASE_URL));
    platform = await startPlatformProcesses(supervisor, {
      databaseUrl: db.url,
      redisUrl: redis.url as string,
      superAdmin: SUPER_ADMIN,
      gateways: ['gateway'],
      overrides: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, LOG_LEVEL: 'info' },
      // Loading the SDK and patching as modules load adds seconds to each start; five start at once here.
      startTimeoutMs: 240_000,
    });
    gateway = platform.gateways[0]!;
    api = gatewayClient(gateway, SUPER_ADMIN);
    t = await createTenant(api as TestPlatform, { branchCount: 1 });
    cashier = await createUser(api as TestPlatform, t, 'CASHIER', [t.branches[0]!.id]);
    await openTillSession(api as TestPlatform, t, cashier.token, t.branches[0]!.id);
    const r = await api.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku: 'TRACE-1', name: 'Product TRACE-1', requiresPrescription: false, controlledSubstance: false, taxCategory: 'STANDARD' } },
      { token: t.adminToken },
    );
    productId = r.createProduct.id;
    await api.ok(
      op('ReceiveStock'),
      { input: { branchId: t.branches[0]!.id, productId, batchNumber: 'TRACE-B1', expiryDate: addDays(dateInZone('Africa/Lusaka'), 300), quantity: 100, costPrice: '1.00', sellingPrice: '10.00' } },
      { token: t.adminToken },
    );
  }, 480_000); // five tsx processes compile and load the tracing SDK at start on a shared 2-core machine
  afterAll(async () => {
    await supervisor?.stopAll();
    await db?.drop();
    await supervisor?.close(true);
    await receiver?.close();
  });

  /** Waits until the trace whose gateway request span satisfies `root` has settled (no new span for a batch interval). */
  async function traceOf(root: (s: ReceivedSpan) => boolean, ready: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
    for (let i = 0; i < 150; i++) {
      const r = receiver.spans.find((s) => s.service === 'umi-gateway' && s.kind === SERVER && root(s));
      if (r && ready(receiver.trace(r.traceId))) return receiver.trace(r.traceId);
      await sleep(200);
    }
    throw new Error(`no complete trace; ${receiver.spans.length} spans received: ${[...new Set(receiver.spans.map((s) => `${s.service}:${s.name}`))].join(', ')}`);
  }
  const ancestors = (spans: ReceivedSpan[], s: ReceivedSpan): ReceivedSpan[] => {
    const byId = new Map(spans.map((x) => [x.spanId, x]));
    const out: ReceivedSpan[] = [];
    for (let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined; p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) out.push(p);
    return out;
  };

  it('one CreateSale is one trace: gateway, three subgraphs, PostgreSQL and Redis, linked parent to child and labelled', async () => {
    if (!available) return;
    const input = () => ({ input: { branchId: t.branches[0]!.id, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId, quantity: 2 }] } });
    // Two sales first, so that the traced one shows warm processes (compiled, cached, connected).
    for (let i = 0; i < 2; i++) await api.ok(op('CreateSale'), input(), { token: cashier.token });
    const requestId = `trace-${randomUUID()}`;
    const sale = await api.ok<{ createSale: { id: string; cashier: { email: string }; items: { product: { sku: string } }[] } }>(
      op('CreateSale'),
      input(),
      // A client's trace context is not continued: the gateway is the edge and starts the trace.
      { token: cashier.token, headers: { 'x-request-id': requestId, traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` } },
    );
    expect(sale.createSale.items[0]!.product.sku).toBe('TRACE-1');

    const isSale = (s: ReceivedSpan) => s.attributes['umi.correlation_id'] === requestId && s.parentSpanId === null;
    const services = (spans: ReceivedSpan[]) => new Set(spans.filter((s) => s.kind === SERVER).map((s) => s.service));
    const spans = await traceOf(isSale, (x) => ['umi-pos', 'umi-inventory', 'umi-tenant'].every((svc) => services(x).has(svc)) && x.some((s) => s.name === 'gateway.request'));
    // Batches of the four processes arrive apart: give the last ones a moment.
    await sleep(1500);
    const trace = receiver.trace(spans[0]!.traceId);
    const tree = printTrace(trace);
    process.stdout.write(`\nCreateSale trace ${spans[0]!.traceId} (${trace.length} spans):\n${tree}\n`);
    if (process.env.TRACE_SAMPLE_OUT) writeFileSync(process.env.TRACE_SAMPLE_OUT, `${tree}\n`);

    // One root: the gateway's HTTP server span, labelled with the tenant and the operation.
    const roots = trace.filter((s) => s.parentSpanId === null);
    expect(roots).toHaveLength(1);
    const root = roots[0]!;
    expect(root).toMatchObject({ service: 'umi-gateway', kind: SERVER, name: 'POST /graphql' });
    expect(root.traceId).not.toBe('ab'.repeat(16));
    expect(root.attributes).toMatchObject({ 'umi.tenant_id': t.id, 'graphql.operation.name': 'CreateSale', 'umi.correlation_id': requestId, 'url.path': '/graphql' });
    // Every other span's parent is in the trace (none orphaned by a lost context).
    const ids = new Set(trace.map((s) => s.spanId));
    expect(trace.filter((s) => s.parentSpanId !== null && !ids.has(s.parentSpanId)).map((s) => `${s.service}:${s.name}`)).toEqual([]);

    // Apollo Gateway's spans are in it, under the HTTP span, with the bounded operation name.
    const request = trace.find((s) => s.name === 'gateway.request')!;
    expect(request.service).toBe('umi-gateway');
    expect(ancestors(trace, request)).toContain(root);
    expect(request.attributes['graphql.operation.name']).toBe('CreateSale');
    const fetches = trace.filter((s) => s.name === 'gateway.fetch');
    expect(fetches.length).toBeGreaterThanOrEqual(3);

    // Each subgraph's server span is a child of one of the gateway's fetches, labelled like the root.
    const subgraphServers = trace.filter((s) => s.kind === SERVER && s.service !== 'umi-gateway');
    expect(new Set(subgraphServers.map((s) => s.service))).toEqual(new Set(['umi-pos', 'umi-inventory', 'umi-tenant']));
    for (const s of subgraphServers) {
      expect(fetches.map((f) => f.spanId)).toContain(s.parentSpanId);
      expect(s.attributes).toMatchObject({ 'umi.tenant_id': t.id, 'graphql.operation.name': 'CreateSale', 'umi.correlation_id': requestId });
    }

    // PostgreSQL queries under the pos subgraph's request: the sale's transaction.
    const pg = trace.filter((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
    const posServer = subgraphServers.find((s) => s.service === 'umi-pos')!;
    const posQueries = pg.filter((s) => s.service === 'umi-pos' && ancestors(trace, s).includes(posServer));
    expect(posQueries.length).toBeGreaterThan(3);
    expect(posQueries.some((s) => /INSERT/i.test(String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? s.name)))).toBe(true);
    // Redis: the gateway's rate-limit bucket under its HTTP span, and the subgraphs' cache reads
    // (warm, the inventory and tenant subgraphs answer this sale's entities from the cache).
    const redis = trace.filter((s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis');
    expect(redis.filter((s) => s.service === 'umi-gateway' && ancestors(trace, s).includes(root)).length).toBeGreaterThan(0);
    const subgraphRedis = redis.filter((s) => s.service !== 'umi-gateway');
    expect(subgraphRedis.length).toBeGreaterThan(0);
    for (const s of subgraphRedis) expect(ancestors(trace, s).filter((a) => subgraphServers.includes(a)).map((a) => a.service)).toEqual([s.service]);

    // The gateway's log line of the request carries the correlation id and the trace id together.
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 20 && !line; i++, await sleep(100)) {
      line = gateway.output.map((l) => (l.startsWith('{') ? (JSON.parse(l) as Record<string, unknown>) : {})).find((l) => l.requestId === requestId && l.msg === 'request completed');
    }
    expect(line).toMatchObject({ requestId, trace_id: root.traceId, operation: 'CreateSale' });
    expect(line?.span_id).toMatch(/^[0-9a-f]{16}$/);
  }, 60_000);

  it("a client's free-text operation name never reaches a span: it is `other`", async () => {
    if (!available) return;
    const name = `Probe${randomUUID().replace(/-/g, '')}`;
    await api.ok(`query ${name} { me { id } }`, {}, { token: cashier.token });
    const spans = await traceOf(
      (s) => s.parentSpanId === null && s.attributes['graphql.operation.name'] === 'other',
      (x) => x.some((s) => s.name === 'gateway.request') && x.some((s) => s.service === 'umi-tenant' && s.kind === SERVER),
    );
    expect(spans.filter((s) => Object.values(s.attributes).some((v) => String(v).includes(name))).map((s) => s.name)).toEqual([]);
    expect(spans.find((s) => s.name === 'gateway.request')?.attributes['graphql.operation.name']).toBe('other');
  }, 60_000);

  it("keeps a provider callback's secret and a GET's query string out of every span", async () => {
    if (!available) return;
    const secret = `cbsecret${randomUUID().replace(/-/g, '')}`;
    const origin = new URL(gateway.url as string).origin;
    await fetch(`${origin}/callbacks/mtn/${secret}?ref=${secret}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const marker = `variable${randomUUID().replace(/-/g, '')}`;
    await fetch(`${gateway.url}?query=${encodeURIComponent('query Me($m: String) { me { id } }')}&variables=${encodeURIComponent(JSON.stringify({ m: marker }))}`, {
      headers: { authorization: `Bearer ${cashier.token}`, 'apollo-require-preflight': 'true' },
    });
    const callback = (await traceOf((s) => s.attributes['http.route'] === '/callbacks/:provider/:secret', () => true))[0]!;
    expect(callback).toMatchObject({ name: 'POST /callbacks/:provider/:secret', attributes: expect.objectContaining({ 'url.path': '/callbacks/:provider/:secret' }) });
    await traceOf((s) => s.attributes['http.request.method'] === 'GET' && s.attributes['http.route'] === '/graphql', () => true);
    await sleep(1500);
    const leaked = receiver.spans.filter((s) => s.name.includes(secret) || Object.values(s.attributes).some((v) => String(v).includes(secret) || String(v).includes(marker)));
    expect(leaked.map((s) => `${s.service}:${s.name}`)).toEqual([]);
  }, 60_000);

  it('no process died on its own', () => {
    if (!available) return;
    expect(supervisor.services.filter((s) => s.exited !== null).map((s) => `${s.name} ${s.exited}`)).toEqual([]);
  });
});
