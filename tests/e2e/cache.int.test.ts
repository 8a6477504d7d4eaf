import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { startFederation, type RunningFederation } from '@umi/platform';
import { canConnect, freePorts, redisServerOrSkip } from '@umi/testkit/processes';
import { contractOperation as op, createTenant, createUser, openTillSession, startTestPlatform, type GqlResult, type TenantFixture, type TestPlatform } from '@umi/testkit';

/**
 * The hot-read caches (L1 per process, L2 in Redis) across two platforms that share PostgreSQL and
 * a private Redis, as two replicas would: every read on one after a write on the other answers what
 * the database holds, keys never cross tenants, and a dead Redis costs nothing but speed.
 */

const EXPIRY = addDays(dateInZone('Africa/Lusaka'), 300);
const BARCODE = '600123456789';

interface ScanResult {
  productByBarcode: { id: string; name: string; sellingPrice: string | null; stock: { quantityAvailable: number } } | null;
}
interface StockResult {
  branch: { stock: { product: { id: string; name: string }; quantityOnHand: number; quantityAvailable: number; reorderLevel: number }[] };
}

/** A redis-server of this suite's own, so that it can die and come back. */
class PrivateRedis {
  private proc: ChildProcess | null = null;
  constructor(readonly port: number) {}
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start() {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await canConnect(this.port)); i++) await new Promise((r) => setTimeout(r, 50));
  }
  async stop() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
}

async function gqlAt<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<GqlResult<T>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, ...((await res.json()) as Omit<GqlResult<T>, 'status'>) };
}
async function okAt<T>(url: string, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const r = await gqlAt<T>(url, query, variables, token);
  if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors ?? r)}`);
  return r.data;
}

/** The cache counters an inventory subgraph reports, by cache and result. */
async function cacheCounts(f: { metricsUrls: { inventory: string } }): Promise<Record<string, number>> {
  const text = await (await fetch(f.metricsUrls.inventory)).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^cache_requests_total\{([^}]*)\} (\d+)/gm)) {
    const cache = /cache="([^"]+)"/.exec(m[1]!)![1]!;
    const result = /result="([^"]+)"/.exec(m[1]!)![1]!;
    counts[`${cache}:${result}`] = Number(m[2]);
  }
  return counts;
}

describe('hot-read caches across two platforms', () => {
  let redis: PrivateRedis;
  let p: TestPlatform;
  let other: RunningFederation;
  let tenants: { t: TenantFixture; branchId: string; productId: string; cashier: string }[];
  let available = false;

  beforeAll(async () => {
    available = await redisServerOrSkip('the cache suite (it kills and restarts a Redis of its own)');
    if (!available) return;
    const [port] = await freePorts(1);
    redis = new PrivateRedis(port!);
    await redis.start();
    p = await startTestPlatform({ REDIS_URL: redis.url, CACHE_ENABLED: 'true' });
    // The second platform: the same database, secrets and Redis, its own processes' state.
    const starting = startFederation({ ...p.env, SUPER_ADMIN_EMAIL: undefined, SUPER_ADMIN_PASSWORD: undefined } as typeof p.env, { ephemeralPorts: true });
    // Two tenants with the same barcode, different names and prices: nothing may cross.
    const made = ['12.50', '99.00'].map(async (price, i) => {
      const t = await createTenant(p, { branchCount: 1 });
      const branchId = t.branches[0]!.id;
      const product = await p.ok<{ createProduct: { id: string } }>(
        op('CreateProduct'),
        { input: { sku: `SKU-${i}`, name: `Tenant ${i} paracetamol`, barcode: BARCODE, requiresPrescription: false, controlledSubstance: false } },
        { token: t.adminToken },
      );
      const productId = product.createProduct.id;
      await p.ok(op('ReceiveStock'), { input: { branchId, productId, batchNumber: `B${i}`, expiryDate: EXPIRY, quantity: 500, costPrice: '5.00', sellingPrice: price } }, { token: t.adminToken });
      const cashier = await createUser(p, t, 'CASHIER', [branchId]);
      await openTillSession(p, t, cashier.token, branchId);
      return { t, branchId, productId, cashier: cashier.token };
    });
    [other, tenants] = await Promise.all([starting, Promise.all(made)]);
    // Two whole platforms start here (ten servers), more than one suite's usual set-up.
  }, 120_000);

  afterAll(async () => {
    await other?.close();
    await p?.close();
    await redis?.stop();
  });

  async function dbStock(i: number): Promise<{ available: number; price: string }> {
    const { t, branchId, productId } = tenants[i]!;
    const schema = tenantSchemaName(t.subdomain);
    const { rows } = await p.db.pool.query(
      `SELECT coalesce(sum(b.quantity_on_hand - b.quantity_reserved), 0)::int AS available,
              coalesce((SELECT selling_price::text FROM "${schema}".product_branch_settings WHERE branch_id = $1 AND product_id = $2 AND selling_price IS NOT NULL),
                       (SELECT selling_price::text FROM "${schema}".inventory_batches WHERE branch_id = $1 AND product_id = $2 ORDER BY expiry_date LIMIT 1)) AS price
       FROM "${schema}".inventory_batches b WHERE b.branch_id = $1 AND b.product_id = $2`,
      [branchId, productId],
    );
    return rows[0] as { available: number; price: string };
  }

  const scan = (url: string, i: number) =>
    okAt<ScanResult>(url, op('ProductByBarcode'), { barcode: BARCODE, branchId: tenants[i]!.branchId }, tenants[i]!.cashier);
  const branchStock = (url: string, i: number) => okAt<StockResult>(url, op('BranchStock'), { branchId: tenants[i]!.branchId }, tenants[i]!.t.adminToken);
  const sell = (url: string, i: number, quantity: number) =>
    okAt(url, op('CreateSale'), { input: { branchId: tenants[i]!.branchId, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId: tenants[i]!.productId, quantity }] } }, tenants[i]!.cashier);

  /** Both platforms' answers for tenant i, each compared with the database read right after. */
  async function expectFresh(i: number) {
    for (const url of [other.url, p.url]) {
      const [s, b] = await Promise.all([scan(url, i), branchStock(url, i)]);
      const db = await dbStock(i);
      expect(s.productByBarcode).toMatchObject({ id: tenants[i]!.productId, name: `Tenant ${i} paracetamol`, stock: { quantityAvailable: db.available } });
      expect(Number(s.productByBarcode!.sellingPrice)).toBe(Number(db.price));
      expect(b.branch.stock).toEqual([expect.objectContaining({ product: expect.objectContaining({ id: tenants[i]!.productId }), quantityAvailable: db.available })]);
    }
  }

  it('keeps tenants apart: the same barcode answers each tenant its own product, and every key carries its tenant', async () => {
    if (!available) return;
    for (let round = 0; round < 2; round++) {
      for (const i of [0, 1]) {
        const s = await scan(other.url, i);
        expect(s.productByBarcode).toMatchObject({ id: tenants[i]!.productId, name: `Tenant ${i} paracetamol` });
        expect(Number(s.productByBarcode!.sellingPrice)).toBe(i === 0 ? 12.5 : 99);
      }
    }
    const counts = await cacheCounts(other);
    expect(counts['product_by_barcode:hit']).toBeGreaterThanOrEqual(2);
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('*');
      expect(keys.length).toBeGreaterThan(0);
      const ids = tenants.map((x) => x.t.id);
      for (const key of keys) {
        // Rate limits and the event bus keep their own keys; every cache key starts with its tenant.
        if (key === 'cache:epoch' || key.startsWith('umi:')) continue;
        expect(key).toMatch(/^tenant:[0-9a-f-]{36}:/);
        const owner = key.slice('tenant:'.length, 'tenant:'.length + 36);
        expect(ids).toContain(owner);
        // No key of one tenant names the other's product.
        for (const x of tenants) if (x.t.id !== owner) expect(key).not.toContain(x.productId);
      }
    } finally {
      client.disconnect();
    }
  });

  it('never serves a read older than a sale or price change made on the other platform', async () => {
    if (!available) return;
    await expectFresh(0);
    const before = await cacheCounts(other);
    for (let n = 0; n < 6; n++) {
      const writer = n % 2 === 0 ? p.url : other.url;
      if (n % 3 === 2) {
        await okAt(
          writer,
          `mutation($input: BranchProductSettingsInput!) { setBranchProductSettings(input: $input) { quantityAvailable } }`,
          { input: { branchId: tenants[0]!.branchId, productId: tenants[0]!.productId, sellingPrice: `${20 + n}.25` } },
          tenants[0]!.t.adminToken,
        );
      } else {
        await sell(writer, 0, 1 + n);
      }
      await expectFresh(0);
      // A second read of the same versions comes from the cache.
      await expectFresh(0);
    }
    const after = await cacheCounts(other);
    expect((after['branch_stock:hit'] ?? 0) - (before['branch_stock:hit'] ?? 0)).toBeGreaterThanOrEqual(6);
    expect((after['stock_level:hit'] ?? 0) - (before['stock_level:hit'] ?? 0)).toBeGreaterThanOrEqual(6);
    // Tenant 1 saw none of that.
    await expectFresh(1);
  });

  it('answers from the database while Redis is dead, and correctly once it is back', async () => {
    if (!available) return;
    await expectFresh(1);
    await redis.stop();
    for (let n = 0; n < 3; n++) {
      await sell(n % 2 === 0 ? p.url : other.url, 1, 2);
      await expectFresh(1);
    }
    await redis.start();
    // Whatever each process missed while Redis was away, reads stay exact once it is back.
    for (let n = 0; n < 3; n++) {
      await sell(n % 2 === 0 ? other.url : p.url, 1, 1);
      await expectFresh(1);
    }
    const deadline = Date.now() + 10_000;
    let hits = 0;
    while (Date.now() < deadline) {
      const before = (await cacheCounts(other))['branch_stock:hit'] ?? 0;
      await branchStock(other.url, 1);
      await branchStock(other.url, 1);
      hits = ((await cacheCounts(other))['branch_stock:hit'] ?? 0) - before;
      if (hits > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The cache serves again once this process re-established the versions.
    expect(hits).toBeGreaterThan(0);
    await expectFresh(1);
  });
});
