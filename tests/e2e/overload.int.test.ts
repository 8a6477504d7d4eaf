import { randomUUID } from 'node:crypto';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, createUser, openTillSession, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PER_TENANT = 1;

interface Shop {
  t: TenantFixture;
  token: string;
  productId: string;
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] as number;
}

/**
 * Admission control: one tenant flooding the gateway spends its own share of the work in flight
 * and is told at once to retry (429 with Retry-After); another tenant's sales keep their latency.
 */
describe('overload by one tenant', () => {
  let p: TestPlatform;
  let a: Shop;
  let b: Shop;

  async function shop(): Promise<Shop> {
    const t = await createTenant(p, { branchCount: 1 });
    const cashier = await createUser(p, t, 'CASHIER', [t.branches[0]!.id]);
    await openTillSession(p, t, cashier.token, t.branches[0]!.id);
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku: 'FLOOD-1', name: 'Product FLOOD-1', requiresPrescription: false, controlledSubstance: false, taxCategory: 'STANDARD' } },
      { token: t.adminToken },
    );
    await p.ok(
      op('ReceiveStock'),
      { input: { branchId: t.branches[0]!.id, productId: r.createProduct.id, batchNumber: 'FLOOD-B1', expiryDate: addDays(dateInZone('Africa/Lusaka'), 300), quantity: 100_000, costPrice: '1.00', sellingPrice: '10.00' } },
      { token: t.adminToken },
    );
    return { t, token: cashier.token, productId: r.createProduct.id };
  }

  beforeAll(async () => {
    p = await startTestPlatform({ MAX_IN_FLIGHT_PER_TENANT: String(PER_TENANT) });
    a = await shop();
    b = await shop();
  }, 180_000);
  afterAll(async () => {
    await p?.close();
  });

  async function sell(s: Shop): Promise<{ ms: number; status: number; code: string | null; retryAfter: string | null }> {
    const t0 = performance.now();
    const res = await fetch(p.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
      body: JSON.stringify({
        query: op('CreateSale'),
        variables: { input: { branchId: s.t.branches[0]!.id, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId: s.productId, quantity: 1 }] } },
      }),
    });
    const body = (await res.json()) as { data?: { createSale?: { id: string } | null }; errors?: { extensions?: { code?: string } }[] };
    return { ms: performance.now() - t0, status: res.status, code: body.data?.createSale?.id ? null : String(body.errors?.[0]?.extensions?.code), retryAfter: res.headers.get('retry-after') };
  }

  it("keeps tenant B's sales near their idle latency while tenant A floods, and refuses A's excess at once", async () => {
    for (let i = 0; i < 3; i++) await sell(b); // warm-up
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push((await sell(b)).ms);

    // A using its share politely (one client, its in-flight limit): what sharing the machine costs B.
    let sharing = true;
    const polite = (async () => {
      while (sharing) await sell(a);
    })();
    await sleep(300);
    const shared: number[] = [];
    for (let i = 0; i < 20; i++) shared.push((await sell(b)).ms);
    sharing = false;
    await polite;

    let flooding = true;
    const aResults: Awaited<ReturnType<typeof sell>>[] = [];
    const flood = Array.from({ length: 12 }, async () => {
      while (flooding) {
        const r = await sell(a);
        aResults.push(r);
        // Retrying ten times sooner than Retry-After asks. (Client, gateway and subgraphs share this
        // one event loop here, so a flood that spins costs B's latency in the test harness itself;
        // the drills run the flood from another process.)
        if (r.code) await sleep(100);
      }
    });
    await sleep(500);
    const busy: Awaited<ReturnType<typeof sell>>[] = [];
    for (let i = 0; i < 20; i++) busy.push(await sell(b));
    flooding = false;
    await Promise.all(flood);

    const refused = aResults.filter((r) => r.code === 'TOO_MANY_REQUESTS');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.status === 429 && r.retryAfter === '1')).toBe(true);
    // A got its share done; only the excess was refused.
    expect(aResults.filter((r) => r.code === null).length).toBeGreaterThan(0);
    expect(aResults.filter((r) => r.code !== null && r.code !== 'TOO_MANY_REQUESTS')).toEqual([]);
    // B: never refused, and its p95 stays near idle (the machine is shared: a generous bound).
    expect(busy.filter((r) => r.code !== null)).toEqual([]);
    const idleP95 = p95(idle);
    const sharedP95 = p95(shared);
    const busyP95 = p95(busy.map((r) => r.ms));
    process.stdout.write(
      `tenant B p95: idle ${idleP95.toFixed(1)} ms, beside A's share ${sharedP95.toFixed(1)} ms, while A floods ${busyP95.toFixed(1)} ms; A: ${aResults.length} requests, ${refused.length} refused\n`,
    );
    // A's flood costs B about what A's fair share costs it, within the noise of a shared machine,
    // and stays within a few times idle (without admission, A's twelve sales in flight queue B's
    // behind them in pos's pool of five: over ten times idle).
    expect(busyP95).toBeLessThan(Math.max(3 * sharedP95, sharedP95 + 1000));
    expect(busyP95).toBeLessThan(8 * idleP95);
  }, 180_000); // sixty sequential sales measured on a shared machine
});
