import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, createUser, openTillSession, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Liveness and readiness apart, and readiness never queued behind the request pool it reports on:
 * a pos whose every pooled connection is busy is serving, not down (the audit saw /readyz 503 for
 * the whole of an overload, which would have had a load balancer pull every instance at peak).
 */
describe('readiness under a saturated pool', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let cashier: { token: string };
  let productId: string;

  beforeAll(async () => {
    p = await startTestPlatform();
    t = await createTenant(p, { branchCount: 1 });
    cashier = await createUser(p, t, 'CASHIER', [t.branches[0]!.id]);
    await openTillSession(p, t, cashier.token, t.branches[0]!.id);
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku: 'BUSY-1', name: 'Product BUSY-1', requiresPrescription: false, controlledSubstance: false, taxCategory: 'STANDARD' } },
      { token: t.adminToken },
    );
    productId = r.createProduct.id;
    await p.ok(
      op('ReceiveStock'),
      { input: { branchId: t.branches[0]!.id, productId, batchNumber: 'BUSY-B1', expiryDate: addDays(dateInZone('Africa/Lusaka'), 300), quantity: 1000, costPrice: '1.00', sellingPrice: '10.00' } },
      { token: t.adminToken },
    );
  }, 180_000); // a platform and its fixture on a shared machine
  afterAll(async () => {
    await p?.close();
  });

  it('answers /readyz 200 within a second for pos and the gateway while every pos connection is held', async () => {
    const schema = tenantSchemaName(t.subdomain);
    // Every sale of this product waits on the batch's row lock, each holding a pos connection:
    // twice the pool's size, so that half of them also wait for a connection.
    const locker = new Client({ connectionString: p.db.url });
    locker.on('error', () => {});
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`SELECT id FROM "${schema}".inventory_batches WHERE product_id = $1 FOR UPDATE`, [productId]);
    const sales = Array.from({ length: Number(p.env.DATABASE_POOL_MAX) * 2 }, () =>
      p.gql<{ createSale: { id: string } | null }>(
        op('CreateSale'),
        { input: { branchId: t.branches[0]!.id, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId, quantity: 1 }] } },
        { token: cashier.token },
      ),
    );
    const waiting = async () =>
      (await p.db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n as number;
    for (let i = 0; i < 100 && (await waiting()) < Number(p.env.DATABASE_POOL_MAX); i++) await sleep(100);
    expect(await waiting()).toBe(Number(p.env.DATABASE_POOL_MAX));
    await sleep(1100); // any readiness result cached from before the saturation has expired

    const timedStatus = async (url: string) => {
      const t0 = performance.now();
      const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
      return { status: r.status, ms: performance.now() - t0 };
    };
    const pos = await timedStatus(String(p.env.POS_URL).replace(/\/graphql$/, '/readyz'));
    const gateway = await timedStatus(p.url.replace(/\/graphql$/, '/readyz'));
    const live = await timedStatus(p.url.replace(/\/graphql$/, '/healthz'));

    await locker.query('ROLLBACK');
    await locker.end();
    const done = await Promise.all(sales);
    expect(pos.status).toBe(200);
    expect(pos.ms).toBeLessThan(1000);
    expect(gateway.status).toBe(200);
    expect(gateway.ms).toBeLessThan(1500);
    expect(live.status).toBe(200);
    // The sales that waited all went through once the lock was gone.
    expect(done.filter((r) => r.data?.createSale?.id).length).toBe(sales.length);
  });
});
