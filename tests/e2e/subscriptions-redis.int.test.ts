import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { addDays, dateInZone } from '@umi/kit';
import { main as startGateway } from '@umi/gateway';
import { redisServerOrSkip } from '@umi/testkit/processes';
import { contractOperation, createTenant, openTillSession, startTestPlatform, subscribe, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;

/** A redis-server of this test's own, on a free port, so it can be killed and restarted. */
class OwnRedis {
  private proc: ChildProcess | null = null;
  constructor(readonly port: number) {}
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await new Promise<boolean>((resolve) => net.connect(this.port, '127.0.0.1').on('connect', function (this: net.Socket) { this.end(); resolve(true); }).on('error', () => resolve(false)))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start');
  }
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
    this.proc = null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

interface SaleEvent {
  saleCompleted: { id: string; saleNumber: string; items: { product: { sku: string } }[] };
}

/**
 * The event path through real Redis: a Redis restart mid-stream loses no committed sale event,
 * and several gateways each deliver every event to their own clients.
 */
describe('subscriptions through Redis', () => {
  let available = false;
  let redis: OwnRedis;
  let p: TestPlatform | undefined;
  let t: TenantFixture;
  let branchId: string;
  let productId: string;
  const cleanup: (() => Promise<void>)[] = [];

  const sell = async () =>
    (
      await p!.ok<{ createSale: { id: string } }>(
        op('CreateSale'),
        { input: { branchId, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId, quantity: 1 }] } },
        { token: t.adminToken },
      )
    ).createSale.id;

  async function until(check: () => boolean, ms: number, what: () => string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    available = await redisServerOrSkip('the Redis subscription tests');
    if (!available) return;
    redis = new OwnRedis(await freePort());
    await redis.start();
    p = await startTestPlatform({ REDIS_URL: redis.url });
    t = await createTenant(p, { branchCount: 1 });
    branchId = t.branches[0]!.id;
    await openTillSession(p, t, t.adminToken, branchId);
    productId = (await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku: 'RDS-1', name: 'Redis test', requiresPrescription: false, controlledSubstance: false } }, { token: t.adminToken })).createProduct.id;
    await p.ok(op('ReceiveStock'), { input: { branchId, productId, batchNumber: 'RDS-B', expiryDate: addDays(dateInZone('Africa/Lusaka'), 300), quantity: 100_000, costPrice: '1.00', sellingPrice: '2.00' } }, { token: t.adminToken });
  });
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    await p?.close();
    await redis?.kill();
  });

  it('loses no committed sale event when Redis is killed and restarted mid-stream', async () => {
    if (!available) return;
    const s = subscribe<SaleEvent>(p!.url, t.adminToken, op('SaleCompleted'), {});
    cleanup.push(() => s.close());
    const made: string[] = [];
    // Live first: sell until the subscription delivers.
    while (s.events.length === 0) {
      made.push(await sell());
      await p!.flushEvents();
      await s.nth(1, 300).catch(() => {});
    }
    for (let i = 0; i < 5; i++) made.push(await sell());
    await redis.kill();
    // Redis is away: checkouts still succeed (their events wait in the outbox).
    for (let i = 0; i < 5; i++) made.push(await sell());
    await redis.start();
    for (let i = 0; i < 5; i++) made.push(await sell());
    const received = () => new Set(s.events.map((e) => e.saleCompleted.id));
    await until(() => made.every((id) => received().has(id)), 30_000, () => `received ${received().size} of ${made.length}`);
    expect([...received()].sort()).toEqual([...made].sort());
    // At least once on the bus (the relay replays after the restart), exactly once to the client.
    expect(s.events).toHaveLength(made.length);
    expect(s.errors).toEqual([]);
  });

  it('lets two gateway instances each deliver every event to their own subscribers', async () => {
    if (!available) return;
    const second = await startGateway({ ...p!.env, PORT: 0 });
    cleanup.push(() => second.close());
    const url2 = `http://127.0.0.1:${second.port}/graphql`;
    const one = subscribe<SaleEvent>(p!.url, t.adminToken, op('SaleCompleted'), {});
    const two = subscribe<SaleEvent>(url2, t.adminToken, op('SaleCompleted'), {});
    cleanup.push(() => one.close(), () => two.close());
    const made: string[] = [];
    while (one.events.length === 0 || two.events.length === 0) {
      made.push(await sell());
      await p!.flushEvents();
      await Promise.all([one.nth(1, 300), two.nth(1, 300)]).catch(() => {});
    }
    const from = { one: one.events.length, two: two.events.length };
    const batch: string[] = [];
    for (let i = 0; i < 10; i++) batch.push(await sell());
    await p!.flushEvents();
    await until(() => one.events.length >= from.one + 10 && two.events.length >= from.two + 10, 15_000, () => `${one.events.length - from.one} and ${two.events.length - from.two} of 10`);
    expect(one.events.slice(from.one).map((e) => e.saleCompleted.id)).toEqual(batch);
    expect(two.events.slice(from.two).map((e) => e.saleCompleted.id)).toEqual(batch);
    expect(two.events[from.two]!.saleCompleted.items[0]!.product.sku).toBe('RDS-1');
  });
});
