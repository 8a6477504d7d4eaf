import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, createTestDatabase, createUser, openTillSession, subscribe, SUPER_ADMIN, type TenantFixture, type TestDatabase, type TestPlatform } from '@umi/testkit';
import { gatewayClient, redisServerOrSkip, startPlatformProcesses, Supervisor, type PlatformProcesses, type Service } from '@umi/testkit/processes';

const op = contractOperation;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const IN_FLIGHT = 6;

/**
 * SIGTERM drains, with the platform as separate processes: the process reports not-ready and stops
 * accepting at once, finishes what is in flight, closes WebSockets with 1001, and exits 0. The
 * audit's gateway cut 15 of 20 requests in flight (15 of them had committed their sale) and
 * accepted 7 more after the signal only to reset them.
 */
describe('SIGTERM drains each process', () => {
  let supervisor: Supervisor;
  let db: TestDatabase;
  let platform: PlatformProcesses;
  let gateway: Service;
  let api: Pick<TestPlatform, 'gql' | 'ok' | 'loginSuperAdmin'>;
  let t: TenantFixture;
  let schema: string;
  let cashier: { token: string };
  let productId: string;
  let available = false;

  beforeAll(async () => {
    available = await redisServerOrSkip('the SIGTERM suite (the platform as processes, with a Redis of its own)');
    if (!available) return;
    supervisor = new Supervisor({ name: 'shutdown test' });
    const redis = await supervisor.startRedis();
    db = await createTestDatabase();
    supervisor.watchDatabase(db.url, String(process.env.DATABASE_URL));
    platform = await startPlatformProcesses(supervisor, { databaseUrl: db.url, redisUrl: redis.url as string, superAdmin: SUPER_ADMIN, gateways: ['gateway'] });
    gateway = platform.gateways[0]!;
    api = gatewayClient(gateway, SUPER_ADMIN);
    t = await createTenant(api as TestPlatform, { branchCount: 1 });
    schema = tenantSchemaName(t.subdomain);
    cashier = await createUser(api as TestPlatform, t, 'CASHIER', [t.branches[0]!.id]);
    await openTillSession(api as TestPlatform, t, cashier.token, t.branches[0]!.id);
    const r = await api.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku: 'TERM-1', name: 'Product TERM-1', requiresPrescription: false, controlledSubstance: false, taxCategory: 'STANDARD' } },
      { token: t.adminToken },
    );
    productId = r.createProduct.id;
    await api.ok(
      op('ReceiveStock'),
      { input: { branchId: t.branches[0]!.id, productId, batchNumber: 'TERM-B1', expiryDate: addDays(dateInZone('Africa/Lusaka'), 300), quantity: 1000, costPrice: '1.00', sellingPrice: '10.00' } },
      { token: t.adminToken },
    );
  }, 300_000); // four tsx processes compile at start on a shared 2-core machine
  afterAll(async () => {
    await supervisor?.stopAll();
    await db?.drop();
    await supervisor?.close(true);
  });

  const sale = (key = randomUUID()) =>
    api.gql<{ createSale: { id: string } | null }>(
      op('CreateSale'),
      { input: { branchId: t.branches[0]!.id, paymentMethod: 'CASH', idempotencyKey: key, items: [{ productId, quantity: 1 }] } },
      { token: cashier.token },
    );
  const salesInDb = async () => (await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".sales`)).rows[0].n as number;

  /** Holds the batch's row lock, so that every sale waits inside its transaction until `release`. */
  async function hold(): Promise<{ release(): Promise<void> }> {
    const locker = new Client({ connectionString: db.url });
    locker.on('error', () => {});
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`SELECT id FROM "${schema}".inventory_batches WHERE product_id = $1 FOR UPDATE`, [productId]);
    return {
      async release() {
        await locker.query('ROLLBACK');
        await locker.end();
      },
    };
  }
  async function waitForLockWaiters(n: number): Promise<void> {
    const count = async () => (await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n as number;
    for (let i = 0; i < 200 && (await count()) < n; i++) await sleep(100);
    expect(await count()).toBeGreaterThanOrEqual(n);
  }

  it('the gateway: in-flight sales complete, new requests are refused, WebSockets close 1001, exit 0', async () => {
    if (!available) return;
    const live = subscribe(gateway.url as string, t.adminToken, op('SaleCompleted'));
    await sleep(500);
    const before = await salesInDb();
    const lock = await hold();
    const inFlight = Array.from({ length: IN_FLIGHT }, () => sale());
    await waitForLockWaiters(Math.min(IN_FLIGHT, Number(platform.env.DATABASE_POOL_MAX)));

    const exit = gateway.kill('SIGTERM', 20_000);
    await sleep(300);
    // After the signal: refused (connection refused) or answered 503, never accepted and reset.
    const late = await fetch(gateway.url as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    }).then(
      (r) => r.status,
      (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
    );
    expect(['ECONNREFUSED', 503]).toContain(late);

    await sleep(700);
    await lock.release();
    const answers = await Promise.all(inFlight);
    expect(answers.map((r) => Boolean(r.data?.createSale?.id))).toEqual(Array.from({ length: IN_FLIGHT }, () => true));
    expect(await exit).toMatchObject({ code: 0, killed: false });
    expect(gateway.exited).toBeNull();
    expect(await salesInDb()).toBe(before + IN_FLIGHT);
    for (let i = 0; i < 50 && live.errors.length === 0; i++) await sleep(100);
    expect(live.errors).toEqual([expect.objectContaining({ code: 1001 })]);
    await live.close().catch(() => {});
    await gateway.restart();
  }, 120_000);

  it('the pos subgraph: in-flight sales complete before it exits 0', async () => {
    if (!available) return;
    const pos = platform.subgraphs[3]!;
    expect(pos.name).toBe('pos');
    const lock = await hold();
    const inFlight = Array.from({ length: 3 }, () => sale());
    await waitForLockWaiters(3);
    const exit = pos.kill('SIGTERM', 20_000);
    await sleep(300);
    const readyz = await fetch(`http://127.0.0.1:${pos.port}/readyz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(readyz);
    await lock.release();
    expect((await Promise.all(inFlight)).map((r) => Boolean(r.data?.createSale?.id))).toEqual([true, true, true]);
    expect(await exit).toMatchObject({ code: 0, killed: false });
    await pos.restart();
    expect((await sale()).data?.createSale?.id).toBeDefined();
  }, 120_000);

  it('the relay exits 0 on SIGTERM, and events still flow after its restart', async () => {
    if (!available) return;
    const exit = await platform.relay.kill('SIGTERM', 20_000);
    expect(exit).toMatchObject({ code: 0, killed: false });
    expect((await sale()).data?.createSale?.id).toBeDefined();
    await platform.relay.restart();
    const unpublished = async () => (await db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE published_at IS NULL`)).rows[0].n as number;
    for (let i = 0; i < 100 && (await unpublished()) > 0; i++) await sleep(100);
    expect(await unpublished()).toBe(0);
  }, 120_000);

  it('no process died on its own', () => {
    if (!available) return;
    expect(supervisor.services.filter((s) => s.exited !== null).map((s) => `${s.name} ${s.exited}`)).toEqual([]);
  });
});
