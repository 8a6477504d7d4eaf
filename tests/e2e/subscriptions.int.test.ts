import { randomUUID } from 'node:crypto';
import { createAccessTokens, dateInZone, addDays } from '@umi/kit';
import {
  closeOf,
  contractOperation,
  createTenant,
  createUser,
  openTillSession,
  startTestPlatform,
  subscribe,
  type TenantFixture,
  type TestPlatform,
} from '@umi/testkit';

const op = contractOperation;
const inDays = (n: number) => addDays(dateInZone('Africa/Lusaka'), n);

interface SaleEvent {
  saleCompleted: { id: string; saleNumber: string; totalAmount: string; branch: { id: string; code: string }; items: { quantity: number; product: { sku: string; name: string } }[] };
}
interface LowStockEvent {
  lowStockAlert: { quantityAvailable: number; reorderLevel: number; product: { id: string; sku: string; name: string }; branch: { id: string; code: string } };
}

/** Live dashboards over graphql-ws at the gateway, fed by the outbox relay (Redis when REDIS_URL is set, else in memory). */
describe('subscriptions', () => {
  let p: TestPlatform;
  let a: TenantFixture;
  let b: TenantFixture;
  let a1: string;
  let a2: string;
  let productA: string;
  let productB: string;
  const open: { close(): Promise<void> }[] = [];

  async function product(t: TenantFixture, sku: string, branchId: string, quantity: number, reorderLevel = 0): Promise<string> {
    const id = (await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku, name: `Name ${sku}`, requiresPrescription: false, controlledSubstance: false } }, { token: t.adminToken }))
      .createProduct.id;
    await p.ok(op('ReceiveStock'), { input: { branchId, productId: id, batchNumber: `${sku}-B`, expiryDate: inDays(300), quantity, costPrice: '1.00', sellingPrice: '10.00', reorderLevel } }, { token: t.adminToken });
    return id;
  }

  const sell = (t: TenantFixture, branchId: string, productId: string, quantity = 1, token = t.adminToken) =>
    p.ok<{ createSale: { id: string; saleNumber: string } }>(
      op('CreateSale'),
      { input: { branchId, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId, quantity }] } },
      { token },
    );

  function live<T>(token: string, name: 'SaleCompleted' | 'LowStock', variables: Record<string, unknown> = {}) {
    const s = subscribe<T>(p.url, token, op(name), variables);
    open.push(s);
    return s;
  }

  /** Proves a subscription is live end to end: sells until its first event arrives. */
  async function warm(s: { nth(n: number, ms?: number): Promise<unknown>; events: unknown[] }, t: TenantFixture, branchId: string, productId: string) {
    for (let i = 0; i < 40 && s.events.length === 0; i++) {
      await sell(t, branchId, productId);
      await p.flushEvents();
      await s.nth(1, 250).catch(() => {});
    }
    await s.nth(1, 5000);
  }

  beforeAll(async () => {
    p = await startTestPlatform({ WS_CONNECTION_INIT_TIMEOUT_MS: '500' });
    [a, b] = await Promise.all([createTenant(p, { branchCount: 2 }), createTenant(p, { branchCount: 1 })]);
    a1 = a.branches[0]!.id;
    a2 = a.branches[1]!.id;
    productA = await product(a, 'SUB-A', a1, 10_000);
    await p.ok(op('ReceiveStock'), { input: { branchId: a2, productId: productA, batchNumber: 'SUB-A2', expiryDate: inDays(300), quantity: 10_000, costPrice: '1.00', sellingPrice: '10.00' } }, { token: a.adminToken });
    productB = await product(b, 'SUB-B', b.branches[0]!.id, 10_000);
    // Every sale is booked to an open till session of its seller at the branch.
    await Promise.all([openTillSession(p, a, a.adminToken, a1), openTillSession(p, a, a.adminToken, a2), openTillSession(p, b, b.adminToken, b.branches[0]!.id)]);
  });
  afterAll(async () => {
    for (const s of open) await s.close().catch(() => {});
    await p?.close();
  });

  it('streams SaleCompleted with fields from other subgraphs, keeps branch filters, and never crosses tenants', async () => {
    const cashier = await createUser(p, a, 'CASHIER', [a1]);
    await openTillSession(p, a, cashier.token, a1);
    const adminAll = live<SaleEvent>(a.adminToken, 'SaleCompleted', { branchId: null });
    const cashierA1 = live<SaleEvent>(cashier.token, 'SaleCompleted', { branchId: a1 });
    const cashierAll = live<SaleEvent>(cashier.token, 'SaleCompleted');
    const tenantB = live<SaleEvent>(b.adminToken, 'SaleCompleted');
    await warm(adminAll, a, a1, productA);
    await warm(tenantB, b, b.branches[0]!.id, productB);
    await Promise.all([cashierA1.nth(1), cashierAll.nth(1)]);

    const start = { admin: adminAll.events.length, a1: cashierA1.events.length, all: cashierAll.events.length, b: tenantB.events.length };
    const s1 = await sell(a, a1, productA, 2, cashier.token);
    const s2 = await sell(a, a2, productA, 3);
    await p.flushEvents();
    const got = await adminAll.nth(start.admin + 2);
    await cashierA1.nth(start.a1 + 1);
    await cashierAll.nth(start.all + 1);
    await new Promise((r) => setTimeout(r, 300)); // anything wrongly routed would have arrived by now

    const adminNew = adminAll.events.slice(start.admin).map((e) => e.saleCompleted);
    expect(adminNew.map((s) => s.id).sort()).toEqual([s1.createSale.id, s2.createSale.id].sort());
    expect(got.saleCompleted).toMatchObject({ branch: { code: expect.stringMatching(/^BR0[12]$/) } });
    const a1Event = adminNew.find((s) => s.id === s1.createSale.id)!;
    expect(a1Event).toEqual({
      id: s1.createSale.id,
      saleNumber: s1.createSale.saleNumber,
      totalAmount: '20.00',
      branch: { id: a1, code: 'BR01' },
      items: [{ quantity: 2, product: { sku: 'SUB-A', name: 'Name SUB-A' } }],
    });
    // The cashier of A1 sees A1's sale only, whether filtered by branch or not.
    expect(cashierA1.events.slice(start.a1).map((e) => e.saleCompleted.id)).toEqual([s1.createSale.id]);
    expect(cashierAll.events.slice(start.all).map((e) => e.saleCompleted.id)).toEqual([s1.createSale.id]);
    // Tenant B heard nothing of tenant A.
    expect(tenantB.events.slice(start.b)).toEqual([]);
    expect(tenantB.events.every((e) => e.saleCompleted.branch.id === b.branches[0]!.id)).toBe(true);
  });

  it('streams LowStock once when available stock crosses the reorder level', async () => {
    const watched = await product(a, 'LOW-SUB', a1, 6, 3);
    const alerts = live<LowStockEvent>(a.adminToken, 'LowStock', { branchId: a1 });
    const sales = live<SaleEvent>(a.adminToken, 'SaleCompleted', { branchId: a1 });
    await warm(sales, a, a1, productA);
    await sell(a, a1, watched, 2); // 4 left: above
    await sell(a, a1, watched, 1); // 3: crossed
    await sell(a, a1, watched, 1); // 2: still below, no second alert
    await p.flushEvents();
    const alert = await alerts.nth(1);
    expect(alert.lowStockAlert).toEqual({ quantityAvailable: 3, reorderLevel: 3, product: { id: watched, sku: 'LOW-SUB', name: 'Name LOW-SUB' }, branch: { id: a1, code: 'BR01' } });
    await new Promise((r) => setTimeout(r, 500));
    expect(alerts.events).toHaveLength(1);
  });

  it('enforces branch access and tenant boundaries at subscription time', async () => {
    const cashier = await createUser(p, a, 'CASHIER', [a1]);
    await openTillSession(p, a, cashier.token, a1);
    const forbidden = live(cashier.token, 'SaleCompleted', { branchId: a2 });
    await expect(forbidden.nth(1, 5000)).rejects.toThrow(/FORBIDDEN|No access/);
    const foreign = live(a.adminToken, 'SaleCompleted', { branchId: b.branches[0]!.id });
    await expect(foreign.nth(1, 5000)).rejects.toThrow(/NOT_FOUND|not found/);
  });

  it('refuses bad, missing and expired tokens and slow handshakes with the protocol close codes', async () => {
    expect((await closeOf(p.url, {})).code).toBe(4401);
    expect((await closeOf(p.url, { authorization: 'Bearer not-a-token' })).code).toBe(4401);
    const operator = await p.loginSuperAdmin();
    expect((await closeOf(p.url, { authorization: `Bearer ${operator}` })).code).toBe(4403);
    expect((await closeOf(p.url, null)).code).toBe(4408);

    // A token that expires while the dashboard is open ends the connection.
    const { principal } = await createAccessTokens({ secret: p.env.JWT_SECRET, issuer: p.env.JWT_ISSUER, audience: p.env.JWT_AUDIENCE, ttlSeconds: 3600 }).verify(a.adminToken);
    const shortLived = await createAccessTokens({ secret: p.env.JWT_SECRET, issuer: p.env.JWT_ISSUER, audience: p.env.JWT_AUDIENCE, ttlSeconds: 2 }).sign(principal);
    const started = Date.now();
    const closed = await closeOf(p.url, { authorization: `Bearer ${shortLived}` });
    expect(closed).toEqual({ code: 4401, reason: 'Token expired' });
    expect(Date.now() - started).toBeGreaterThan(800);
  });

  it('accepts only subscriptions, within the same limits as HTTP', async () => {
    const query = subscribe(p.url, a.adminToken, '{ me { id } }');
    open.push(query);
    await expect(query.nth(1, 5000)).rejects.toThrow(/Only subscriptions/);
    // Deeper than MAX_DEPTH (12): refused by the same rule as over HTTP.
    let nested = 'id';
    for (let i = 0; i < 7; i++) nested = `product { stock(branchId: "x") { ${nested} } }`;
    const deep = subscribe(p.url, a.adminToken, `subscription { saleCompleted { items { ${nested} } } }`);
    open.push(deep);
    await expect(deep.nth(1, 5000)).rejects.toThrow(/depth/i);
    const unknown = subscribe(p.url, a.adminToken, 'subscription { nothingHere }');
    open.push(unknown);
    await expect(unknown.nth(1, 5000)).rejects.toThrow(/Cannot query field/);
  });

  it('spends the user\'s rate-limit tokens on connections: over the limit closes 4429', async () => {
    const limited = await startTestPlatform({ RATE_LIMIT_BURST: '4', RATE_LIMIT_PER_MINUTE: '1' });
    try {
      const t = await createTenant(limited, { branchCount: 0 }); // the admin's bucket is untouched so far
      const codes: number[] = [];
      // A connection that is accepted stays open until the token expires: count those by timing out.
      for (let i = 0; i < 5; i++) codes.push(await closeOf(limited.url, { authorization: `Bearer ${t.adminToken}` }, 400).then((c) => c.code, () => 0));
      expect(codes).toEqual([0, 0, 0, 0, 4429]);
    } finally {
      await limited.close();
    }
  });
});
