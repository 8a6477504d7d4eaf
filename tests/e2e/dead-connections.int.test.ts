import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, createUser, ledgerBreaks, openTillSession, partialSales, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TODAY = dateInZone('Africa/Lusaka');

/**
 * PostgreSQL terminating every backend of the database again and again (a failover, an operator's
 * pg_terminate_backend) while sales go through the gateway: no process may die (the relay and pos
 * did, on an 'error' event nobody listened to), a request that lost its connection fails with the
 * retryable SERVICE_UNAVAILABLE (never INTERNAL_SERVER_ERROR), retrying with the same key ends with
 * exactly one sale, and no sale is partial.
 */
describe('dead database connections under load', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let schema: string;
  let cashier: { token: string };
  let productId: string;

  beforeAll(async () => {
    p = await startTestPlatform();
    t = await createTenant(p, { branchCount: 1 });
    schema = tenantSchemaName(t.subdomain);
    cashier = await createUser(p, t, 'CASHIER', [t.branches[0]!.id]);
    await openTillSession(p, t, cashier.token, t.branches[0]!.id);
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku: 'KILL-1', name: 'Product KILL-1', requiresPrescription: false, controlledSubstance: false, taxCategory: 'STANDARD' } },
      { token: t.adminToken },
    );
    productId = r.createProduct.id;
    await p.ok(
      op('ReceiveStock'),
      { input: { branchId: t.branches[0]!.id, productId, batchNumber: 'KILL-B1', expiryDate: addDays(TODAY, 300), quantity: 100_000, costPrice: '1.00', sellingPrice: '10.00' } },
      { token: t.adminToken },
    );
  }, 180_000); // a platform and its fixture on a shared machine
  afterAll(async () => {
    await p?.close();
  });

  const sale = (key: string) =>
    p.gql<{ createSale: { id: string } | null }>(
      op('CreateSale'),
      { input: { branchId: t.branches[0]!.id, paymentMethod: 'CASH', idempotencyKey: key, items: [{ productId, quantity: 1 }] } },
      { token: cashier.token },
    );

  it('fails only the requests that used a dead connection, retryably, and every component serves after', async () => {
    const killer = new Client({ connectionString: p.db.url });
    killer.on('error', () => {});
    await killer.connect();
    const failures = new Map<string, number>();
    const keys: string[] = [];
    let stop = false;
    let kills = 0;
    let terminated = 0;

    const killing = (async () => {
      while (!stop) {
        await sleep(250);
        const r = await killer.query(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
        kills += 1;
        terminated += r.rows[0].n as number;
      }
    })();
    // Four cashiers, each retrying a failed sale with its key until it goes through.
    const selling = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const key = randomUUID();
        keys.push(key);
        for (let attempt = 0; ; attempt++) {
          const r = await sale(key);
          if (r.data?.createSale?.id) break;
          const code = String(r.errors?.[0]?.extensions?.code ?? `HTTP ${r.status}`);
          failures.set(code, (failures.get(code) ?? 0) + 1);
          if (code !== 'SERVICE_UNAVAILABLE' || attempt > 50) throw new Error(`sale ${key} failed with ${code}: ${JSON.stringify(r.errors)}`);
          await sleep(50);
        }
      }
    });
    await sleep(6000);
    stop = true;
    await Promise.all([killing, ...selling]);
    await killer.end();

    // Every component still serves: the gateway, each subgraph's readiness, a new sale, the relay.
    const base = p.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    for (const name of ['TENANT_URL', 'PHARMACY_URL', 'INVENTORY_URL', 'POS_URL'] as const) {
      const url = String(p.env[name]).replace(/\/graphql$/, '/readyz');
      let status = 0;
      for (let i = 0; i < 20 && status !== 200; i++) {
        status = (await fetch(url)).status;
        if (status !== 200) await sleep(200);
      }
      expect({ name, status }).toEqual({ name, status: 200 });
    }
    expect((await sale(randomUUID())).data?.createSale?.id).toBeDefined();
    await p.flushEvents();
    const { rows } = await p.db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE published_at IS NULL`);
    expect(rows[0].n).toBe(0);

    expect(kills).toBeGreaterThan(10);
    expect(terminated).toBeGreaterThan(kills);
    expect([...failures.keys()].filter((c) => c !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    // One sale per key, whatever was retried; the last one above is the +1.
    const counted = await p.db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".sales`);
    expect(counted.rows[0].n).toBe(keys.length + 1);
    expect(await partialSales(p.db.pool, schema)).toEqual([]);
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
  });
});
