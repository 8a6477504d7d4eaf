// Tenants on two PostgreSQL servers: the machine's (the primary, with the shared schema) and an
// embedded one started here. New tenants go to the emptiest server; requests reach each tenant's
// schema on its own server; isolation holds across servers; each process keeps its connection
// budget per server; and a tenant moves between servers under a loop of sales and reads with no
// sale lost and the old schema gone.
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { redisReachable } from '@umi/testkit/processes';
import { Pool } from 'pg';
import { createOwnerPool, moveTenant, ServerPools, serverUrls, tenantSchemaName, TENANT_DIRECTORY_CHANNEL } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation as op, createTenant, createUser, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';
import { startExtraPostgres } from '@umi/testkit/extra-postgres';

type Gql = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
const code = (r: Gql) => r.errors?.[0]?.extensions?.code;


interface Seller {
  tenant: TenantFixture;
  branchId: string;
  productId: string;
  cashier: { token: string };
  sessionId: string;
}

describe('placement: tenants on several PostgreSQL servers', () => {
  let extra: Awaited<ReturnType<typeof startExtraPostgres>>;
  let p: TestPlatform;
  let second: Pool;
  let redis: Redis | null = null;
  let a: Seller;
  let b: Seller;
  const BUDGET = 5;

  const schemaOn = async (pool: Pool, schema: string) =>
    (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [schema])).rows[0]!.n === 1;
  const serverOf = async (tenantId: string) => {
    const c = await p.db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT set_config('app.platform', 'on', true)`);
      const { rows } = await c.query<{ server_id: string; moving: boolean; migrations: string[] }>(
        'SELECT server_id, moving_since IS NOT NULL AS moving, schema_migrations AS migrations FROM shared.tenants WHERE id = $1',
        [tenantId],
      );
      await c.query('COMMIT');
      return rows[0]!;
    } finally {
      c.release();
    }
  };

  async function seller(t: TenantFixture): Promise<Seller> {
    const branchId = t.branches[0]!.id;
    const cashier = await createUser(p, t, 'CASHIER', [branchId]);
    const product = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku: 'PCM-500', name: 'Paracetamol 500', requiresPrescription: false, controlledSubstance: false } },
      { token: t.adminToken },
    );
    const productId = product.createProduct.id;
    await p.ok(
      op('ReceiveStock'),
      { input: { branchId, productId, batchNumber: 'B1', expiryDate: addDays(dateInZone('Africa/Lusaka'), 300), quantity: 5000, costPrice: '1.00', sellingPrice: '2.50' } },
      { token: t.adminToken },
    );
    const till = await p.ok<{ createTill: { id: string } }>(op('CreateTill'), { branchId, name: 'Front' }, { token: t.adminToken });
    const session = await p.ok<{ openTill: { id: string } }>(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat: '0.00' } }, { token: cashier.token });
    return { tenant: t, branchId, productId, cashier, sessionId: session.openTill.id };
  }

  const sell = (s: Seller, key: string = randomUUID()) =>
    p.gql<{ createSale: { id: string } }>(
      op('CreateSale'),
      { input: { branchId: s.branchId, paymentMethod: 'CARD', idempotencyKey: key, tillSessionId: s.sessionId, items: [{ productId: s.productId, quantity: 1 }] } },
      { token: s.cashier.token },
    );
  const sales = (s: Seller, token = s.cashier.token, branchId = s.branchId) => p.gql<{ sales: { edges: { node: { id: string } }[] } }>(op('Sales'), { branchId, first: 100 }, { token });

  beforeAll(async () => {
    extra = await startExtraPostgres();
    second = new Pool({ connectionString: extra.url, max: 2 });
    const useRedis = await redisReachable(process.env.REDIS_URL);
    if (!useRedis && process.env.REQUIRE_REDIS === '1') throw new Error('REQUIRE_REDIS=1 but Redis is not reachable');
    if (useRedis) redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
    p = await startTestPlatform({
      TENANT_DATABASE_URLS: `pg2=${extra.url}`,
      DATABASE_POOL_MAX: String(BUDGET),
      ...(useRedis ? { REDIS_URL: process.env.REDIS_URL! } : {}),
    });
    // The operator registers the second server (no secret in the row: `pg2` names the URL above).
    const c = await p.db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT set_config('app.platform', 'on', true)`);
      await c.query(`INSERT INTO shared.database_servers (id, name, connection_ref, capacity) VALUES ('pg2', 'Second server', 'pg2', 100)`);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    // Both servers are empty: ties go by id, so the first tenant lands on pg2, the next on primary.
    const ta = await createTenant(p, { branchCount: 1 });
    const tb = await createTenant(p, { branchCount: 1 });
    [a, b] = await Promise.all([seller(ta), seller(tb)]);
  }, 180_000);

  afterAll(async () => {
    redis?.disconnect();
    await second?.end();
    await p?.close();
    await extra?.stop();
  }, 120_000);

  it('places new tenants on the emptiest server and keeps each schema on its own server only', async () => {
    expect((await serverOf(a.tenant.id)).server_id).toBe('pg2');
    expect((await serverOf(b.tenant.id)).server_id).toBe('primary');
    const schemaA = tenantSchemaName(a.tenant.subdomain);
    const schemaB = tenantSchemaName(b.tenant.subdomain);
    expect(await schemaOn(second, schemaA)).toBe(true);
    expect(await schemaOn(p.db.pool, schemaA)).toBe(false);
    expect(await schemaOn(p.db.pool, schemaB)).toBe(true);
    expect(await schemaOn(second, schemaB)).toBe(false);
    // The shared-schema writes of a tenant on pg2 (branch, users) left their audit rows on pg2.
    const { rows } = await second.query(`SELECT entity_type, action FROM "${schemaA}".audit_logs ORDER BY entity_type`);
    expect(rows).toEqual(expect.arrayContaining([{ entity_type: 'Tenant', action: 'CREATE' }, { entity_type: 'Branch', action: 'CREATE' }, { entity_type: 'User', action: 'CREATE' }]));
    // The directory knows the schema's version on pg2.
    const { rows: applied } = await second.query<{ name: string }>(`SELECT name FROM "${schemaA}".umi_migrations ORDER BY name`);
    expect(applied.length).toBeGreaterThan(0);
    expect((await serverOf(a.tenant.id)).migrations).toEqual(applied.map((r) => r.name));
  });

  it('sells on both servers, and a token of one tenant never reaches the other across servers', async () => {
    const [sa, sb] = await Promise.all([sell(a), sell(b)]);
    expect(sa.errors).toBeUndefined();
    expect(sb.errors).toBeUndefined();
    const schemaA = tenantSchemaName(a.tenant.subdomain);
    const schemaB = tenantSchemaName(b.tenant.subdomain);
    expect((await second.query(`SELECT id FROM "${schemaA}".sales`)).rows.map((r: { id: string }) => r.id)).toContain(sa.data!.createSale.id);
    expect((await p.db.pool.query(`SELECT id FROM "${schemaB}".sales`)).rows.map((r: { id: string }) => r.id)).toContain(sb.data!.createSale.id);
    // A's cashier asks for B's branch: refused, and A's own list holds only A's sales.
    const cross = await sales(a, a.cashier.token, b.branchId);
    expect(['FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT']).toContain(code(cross));
    const own = await sales(a);
    expect(own.errors).toBeUndefined();
    const ids = own.data!.sales.edges.map((e) => e.node.id);
    expect(ids).toContain(sa.data!.createSale.id);
    expect(ids).not.toContain(sb.data!.createSale.id);
    // And B's cashier cannot sell at A's branch (on the other server).
    const crossSale = await p.gql(
      op('CreateSale'),
      { input: { branchId: a.branchId, paymentMethod: 'CARD', idempotencyKey: randomUUID(), tillSessionId: b.sessionId, items: [{ productId: a.productId, quantity: 1 }] } },
      { token: b.cashier.token },
    );
    expect(crossSale.errors?.length).toBeGreaterThan(0);
    expect((await second.query(`SELECT count(*)::int AS n FROM "${schemaA}".sales`)).rows[0].n).toBe(1);
    // The relay of each server publishes its own tenants' events: A's sale.completed, written on
    // the second server, goes out as B's does on the primary.
    await p.flushEvents();
    const unpublished = async (pool: Pool, schema: string) =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE event_type = 'sale.completed' AND published_at IS NULL`)).rows[0]!.n;
    const published = async (pool: Pool, schema: string) =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE event_type = 'sale.completed' AND published_at IS NOT NULL`)).rows[0]!.n;
    expect([await unpublished(second, schemaA), await unpublished(p.db.pool, schemaB)]).toEqual([0, 0]);
    expect([await published(second, schemaA), await published(p.db.pool, schemaB)]).toEqual([1, 1]);
  });

  it('keeps each process within its connection budget on every server', async () => {
    // 60 reads of the pg2 tenant at once: the subgraphs (one process, four pools on pg2 of
    // DATABASE_POOL_MAX each) queue them instead of opening a connection per request.
    const peak = { n: 0 };
    let running = true;
    const watch = (async () => {
      while (running) {
        const { rows } = await second.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`);
        peak.n = Math.max(peak.n, rows[0]!.n);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const results = await Promise.all(Array.from({ length: 60 }, () => sales(a)));
    running = false;
    await watch;
    expect(results.filter((r) => r.errors).map((r) => r.errors)).toEqual([]);
    // Four subgraphs × BUDGET, the provisioner's owner pool (4) and this test's pool (2).
    expect(peak.n).toBeGreaterThan(0);
    expect(peak.n).toBeLessThanOrEqual(4 * BUDGET + 4 + 2);
  });

  it('moves a tenant under a loop of sales and reads: no sale lost, paused writes retryable, then served from the new server, old schema gone', async () => {
    if (!redis) {
      // Without Redis the processes see the switch within the directory TTL (30 s): too slow for a test.
      process.stdout.write('skipping the move under load: no Redis reachable at REDIS_URL (processes would see the move only after the directory TTL)\n');
      return;
    }
    const schemaA = tenantSchemaName(a.tenant.subdomain);
    const before = (await second.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schemaA}".sales`)).rows[0]!.n;
    const committed: string[] = [];
    const refused: { key: string; code: unknown }[] = [];
    const readErrors: unknown[] = [];
    let loop = true;
    const writer = (async () => {
      while (loop) {
        const key = randomUUID();
        const r = await sell(a, key);
        if (r.errors) refused.push({ key, code: code(r) });
        else committed.push(r.data!.createSale.id);
        // Light load: a till's pace, not a flood of one process's event loop (the move shares it).
        await new Promise((res) => setTimeout(res, 30));
      }
    })();
    const reader = (async () => {
      while (loop) {
        const r = await sales(a);
        if (r.errors) readErrors.push(code(r));
        await new Promise((res) => setTimeout(res, 30));
      }
    })();
    await new Promise((r) => setTimeout(r, 400));
    const owner = createOwnerPool(p.db.url);
    const pools = new ServerPools(serverUrls(p.db.url, { pg2: extra.url }), (url) => createOwnerPool(url), owner);
    let sawPaused = false;
    const report = await moveTenant({
      primary: owner,
      serverPool: (s) => pools.pool(s),
      appRole: p.env.DATABASE_APP_ROLE,
      tenant: a.tenant.subdomain,
      target: 'primary',
      publish: async (id) => void (await redis!.publish(TENANT_DIRECTORY_CHANNEL, id)),
      hooks: {
        // Hold the pause a moment so the loop meets it.
        locked: async () => {
          await new Promise((r) => setTimeout(r, 300));
          sawPaused = (await serverOf(a.tenant.id)).moving;
        },
      },
    });
    await new Promise((r) => setTimeout(r, 400));
    loop = false;
    await Promise.all([writer, reader]);
    await pools.close();

    expect(sawPaused).toBe(true);
    expect(report).toMatchObject({ from: 'pg2', to: 'primary', keptAs: null });
    expect(await serverOf(a.tenant.id)).toMatchObject({ server_id: 'primary', moving: false });
    // Writes during the pause were refused with the retryable code, nothing else.
    expect([...new Set(refused.map((r) => r.code))].filter((c) => c !== 'TENANT_MOVING')).toEqual([]);
    expect(readErrors.filter((c) => c !== 'TENANT_MOVING')).toEqual([]);
    expect(committed.length).toBeGreaterThan(0);
    // Old schema gone from pg2; every committed sale is on the primary now, and nothing else.
    expect(await schemaOn(second, schemaA)).toBe(false);
    const { rows } = await p.db.pool.query<{ id: string }>(`SELECT id FROM "${schemaA}".sales`);
    const now = new Set(rows.map((r) => r.id));
    for (const id of committed) expect(now.has(id)).toBe(true);
    expect(now.size).toBe(before + committed.length);
    // A refused sale sent again succeeds, on the new server; reads are served from there.
    if (refused[0]) {
      const again = await sell(a, refused[0].key);
      expect(again.errors).toBeUndefined();
      expect((await p.db.pool.query(`SELECT 1 FROM "${schemaA}".sales WHERE id = $1`, [again.data!.createSale.id])).rowCount).toBe(1);
    }
    const after = await sell(a);
    expect(after.errors).toBeUndefined();
    const listed = await sales(a);
    expect(listed.data!.sales.edges.map((e) => e.node.id)).toContain(after.data!.createSale.id);
    process.stdout.write(`move: ${committed.length} sales committed, ${refused.length} refused (TENANT_MOVING), paused ${report.pausedMs} ms, ${Object.values(report.counts).reduce((x, y) => x + y, 0)} rows copied\n`);
  }, 120_000);
});
