// A tenant's view (TenantDb) is cheap and its Prisma client is built only when a model or a
// transaction is used: N tenant scopes that run tagged SQL only build no Prisma client at all.
import { Pool } from 'pg';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { applyMigrations, inTransaction } from './migrate';
import { createAppPool } from './pools';
import { sql, tables } from './sql';
import { TenantClients } from './tenant-clients';

const TENANTS = 8;
const schemaOf = (i: number): string => `tenant_lazy_${i}`;

describe('TenantClients: Prisma clients only where models are used', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    const client = await db.pool.connect();
    try {
      for (let i = 0; i < TENANTS; i++) {
        await inTransaction(client, async () => {
          await applyMigrations(client, 'tenant', schemaOf(i), TEST_APP_ROLE);
          await client.query(`INSERT INTO "${schemaOf(i)}".products (sku, name) VALUES ($1, $2)`, [`LAZY-${i}`, `Product ${i}`]);
        });
      }
    } finally {
      client.release();
    }
    pool = createAppPool(db.url, 4, TEST_APP_ROLE);
  }, 120_000);

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('answers tagged SQL for every tenant without building a Prisma client, and builds one per tenant on model use', async () => {
    const tenants = new TenantClients(pool, 100);
    try {
      for (let i = 0; i < TENANTS; i++) {
        const rows = await tenants.db(schemaOf(i)).sql.query<{ sku: string }>(sql`SELECT sku FROM ${tables.products}`);
        expect(rows).toEqual([{ sku: `LAZY-${i}` }]);
      }
      expect(tenants.stats()).toEqual({ cached: TENANTS, created: TENANTS, prismaClients: 0 });

      // The escape hatches stay hidden on the lazy view, and asking does not build a client.
      const view = tenants.db(schemaOf(0));
      expect((view as unknown as Record<string, unknown>).$queryRawUnsafe).toBeUndefined();
      expect('$transaction' in view).toBe(false);
      expect(tenants.stats().prismaClients).toBe(0);

      // First model use builds the client; later uses, transactions and get() reuse it.
      expect(await view.product.count()).toBe(1);
      expect(await view.transaction((tx) => tx.product.findMany({ select: { sku: true } }))).toEqual([{ sku: 'LAZY-0' }]);
      expect(await tenants.get(schemaOf(0)).product.count()).toBe(1);
      expect(tenants.stats()).toEqual({ cached: TENANTS, created: TENANTS, prismaClients: 1 });

      // A second tenant's models read its own schema only.
      expect(await tenants.db(schemaOf(1)).product.findMany({ select: { sku: true } })).toEqual([{ sku: 'LAZY-1' }]);
      expect(tenants.stats().prismaClients).toBe(2);
    } finally {
      await tenants.close();
    }
  });

  it('a view evicted while a request holds it still builds a working client', async () => {
    const tenants = new TenantClients(pool, 2);
    try {
      const held = tenants.db(schemaOf(2));
      tenants.db(schemaOf(3));
      tenants.db(schemaOf(4)); // evicts schemaOf(2)
      expect(tenants.stats()).toEqual({ cached: 2, created: 3, prismaClients: 0 });
      expect(await held.product.findMany({ select: { sku: true } })).toEqual([{ sku: 'LAZY-2' }]);
      expect(tenants.stats().prismaClients).toBe(1);
    } finally {
      await tenants.close();
    }
  });

  it('a view costs a few KiB of heap, not a Prisma client', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const count = 2000;
    const tenants = new TenantClients(pool, count);
    try {
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < count; i++) tenants.db(`tenant_view_${i}`);
      gc();
      const perView = (process.memoryUsage().heapUsed - before) / count;
      process.stdout.write(`\n[tenant-clients lazy] ${Math.round(perView)} bytes of heap per tenant view\n`);
      // A Prisma client measured hundreds of KiB here; a view is closures and a proxy.
      expect(perView).toBeLessThan(8 * 1024);
      expect(tenants.stats().prismaClients).toBe(0);
    } finally {
      await tenants.close();
    }
  });
});
