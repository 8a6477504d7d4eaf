// Tenant migration 0010 (sales and sale_items partitioned by UTC month) on a schema that already
// has sales in several months: nothing is lost, the rows sit in their months, the application role
// keeps exactly its privileges, references by id are still enforced (now by triggers), and
// ensureSalePartitions makes the months ahead idempotently, also when called concurrently.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolClient } from 'pg';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { applyMigrations, inTransaction } from './migrate';
import { ensureSalePartitions, utcMonth } from './sale-partitions';
import { exportTenant, importTenant } from './tenant-backup';

const SCHEMA = 'tenant_partition_test';
const BRANCH = '00000000-0000-4000-8000-0000000000b1';
const CASHIER = '00000000-0000-4000-8000-0000000000c1';
const SESSION = '00000000-0000-4000-8000-0000000000e1';

/** 40 sales spread over this month and the four before (UTC), two lines and one payment each; every 4th refunded. */
const SEED = `
INSERT INTO products (id, sku, name) VALUES ('00000000-0000-4000-8000-000000000001', 'P1', 'Paracetamol');
INSERT INTO inventory_batches (id, branch_id, product_id, batch_number, expiry_date, cost_price, selling_price)
VALUES ('00000000-0000-4000-8000-000000000002', '${BRANCH}', '00000000-0000-4000-8000-000000000001', 'L1', '2030-01-01', 1, 2);
INSERT INTO tills (id, branch_id, name) VALUES ('00000000-0000-4000-8000-0000000000d1', '${BRANCH}', 'Till 1');
INSERT INTO till_sessions (id, till_id, branch_id, opened_by) VALUES ('${SESSION}', '00000000-0000-4000-8000-0000000000d1', '${BRANCH}', '${CASHIER}');
INSERT INTO sales (id, sale_number, branch_id, cashier_id, subtotal, tax_amount, total_amount, prices_include_tax, payment_method, payment_status, created_at, updated_at)
SELECT md5('sale' || g)::uuid, 'BR-' || lpad(g::text, 6, '0'), '${BRANCH}', '${CASHIER}', g * 2.5, 0, g * 2.5, true, 'CASH', 'PAID', ts, ts
FROM generate_series(1, 40) g,
     LATERAL (SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => g % 5)) AT TIME ZONE 'UTC'
                     + make_interval(days => g % 20, hours => g % 24) AS ts) t;
INSERT INTO sale_items (id, sale_id, product_id, batch_id, batch_number, quantity, unit_price, tax_category, tax_rate, line_total)
SELECT md5('item' || g || '-' || k)::uuid, md5('sale' || g)::uuid, '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', 'L1', g, 1.25, 'EXEMPT', 0, g * 1.25
FROM generate_series(1, 40) g, generate_series(1, 2) k;
INSERT INTO payments (sale_id, method, amount, status, processed_at)
SELECT md5('sale' || g)::uuid, 'CASH', g * 2.5, 'COMPLETED', now() FROM generate_series(1, 40) g;
INSERT INTO refunds (id, sale_id, till_session_id, branch_id, amount, tax_amount, reason, refunded_by)
SELECT md5('refund' || g)::uuid, md5('sale' || g)::uuid, '${SESSION}', '${BRANCH}', g * 1.25, 0, 'returned', '${CASHIER}'
FROM generate_series(4, 40, 4) g;
INSERT INTO refund_items (refund_id, sale_item_id, quantity, amount, tax_amount)
SELECT md5('refund' || g)::uuid, md5('item' || g || '-1')::uuid, g, g * 1.25, 0 FROM generate_series(4, 40, 4) g;
`;

/** What must be the same before and after the migration. */
const FIGURES = `
SELECT (SELECT count(*) FROM sales)::int AS sales, (SELECT sum(total_amount) FROM sales)::text AS sales_total,
       (SELECT string_agg(id::text || sale_number || created_at::text, ',' ORDER BY id) FROM sales) AS sales_keys,
       (SELECT count(*) FROM sale_items)::int AS items, (SELECT sum(line_total) FROM sale_items)::text AS items_total,
       (SELECT string_agg(id::text || sale_id::text, ',' ORDER BY id) FROM sale_items) AS item_keys,
       (SELECT count(*) FROM payments)::int AS payments, (SELECT count(*) FROM refund_items)::int AS refund_items,
       (SELECT sum(s.total_amount) FROM sales s JOIN payments p ON p.sale_id = s.id)::text AS paid_joined`;

const PRIVILEGES = `
SELECT t, array_agg(p ORDER BY p) FILTER (WHERE has_table_privilege($1, format('%I.%I', $2::text, t), p)) AS granted
FROM unnest(ARRAY['sales', 'sale_items']) t, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
GROUP BY t ORDER BY t`;

describe('sales partitioned by month (tenant migration 0010)', () => {
  let db: TestDatabase;
  let c: PoolClient;
  const inSchema = async <T>(fn: () => Promise<T>): Promise<T> =>
    inTransaction(c, async () => {
      await c.query(`SELECT set_config('search_path', $1, true)`, [SCHEMA]);
      return fn();
    });
  const months = (n: number) => Array.from({ length: n }, (_, i) => utcMonth(new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - i, 1))));

  beforeAll(async () => {
    db = await createTestDatabase();
    c = await db.pool.connect();
  });
  afterAll(async () => {
    c?.release();
    await db?.drop();
  });

  it('moves existing sales of five months into their partitions without losing or changing a row, and the app role keeps exactly its privileges', async () => {
    await c.query(`INSERT INTO shared.tenants (name, subdomain, schema_name, plan, max_branches, max_users) VALUES ('Partitions', 'partition-test', $1, 'basic', 1, 10)`, [SCHEMA]);
    await inTransaction(c, () => applyMigrations(c, 'tenant', SCHEMA, TEST_APP_ROLE, (name) => name < '0010'));
    const before = await inSchema(async () => {
      await c.query(SEED);
      return (await c.query(FIGURES)).rows[0];
    });
    const privilegesBefore = (await c.query(PRIVILEGES, [TEST_APP_ROLE, SCHEMA])).rows;
    expect(before).toMatchObject({ sales: 40, items: 80, payments: 40, refund_items: 10 });

    const applied = await inTransaction(c, () => applyMigrations(c, 'tenant', SCHEMA, TEST_APP_ROLE));
    expect(applied).toEqual(['0010_partitioned_sales.sql']);

    const after = await inSchema(async () => (await c.query(FIGURES)).rows[0]);
    expect(after).toEqual(before);
    expect((await c.query(PRIVILEGES, [TEST_APP_ROLE, SCHEMA])).rows).toEqual(privilegesBefore);
    expect(privilegesBefore).toEqual([
      { t: 'sale_items', granted: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'] },
      { t: 'sales', granted: ['DELETE', 'INSERT', 'SELECT', 'UPDATE'] },
    ]);

    // Each month's sales and their lines sit in that month's partitions; DEFAULT is empty.
    const placed = await inSchema(async () => {
      const { rows } = await c.query<{ part: string; n: number }>(
        `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM sales GROUP BY 1
         UNION ALL SELECT tableoid::regclass::text, count(*)::int FROM sale_items GROUP BY 1 ORDER BY 1`,
      );
      return rows;
    });
    const expected = months(5).flatMap((m) => {
      const suffix = m.slice(0, 7).replace('-', '_');
      return [`sale_items_${suffix}`, `sales_${suffix}`];
    });
    expect(placed.map((r) => r.part).sort()).toEqual(expected.sort());
    expect(placed.filter((r) => r.part.startsWith('sales_')).reduce((n, r) => n + r.n, 0)).toBe(40);
    const misplaced = await inSchema(async () =>
      (await c.query(`SELECT count(*)::int AS n FROM sale_items i JOIN sales s ON s.id = i.sale_id WHERE i.sale_created_at <> s.created_at`)).rows[0].n,
    );
    expect(misplaced).toBe(0);
    // Partitions carry exactly the parent's grants.
    const { rows: acl } = await c.query(
      `SELECT count(DISTINCT relacl::text)::int AS n FROM pg_class WHERE relnamespace = $1::regnamespace AND relname ~ '^sales(_\\d{4}_\\d{2}|_default)?$'`,
      [SCHEMA],
    );
    expect(acl[0].n).toBe(1);
  });

  it('still enforces every reference to a sale or a sale line (a payment for a missing sale fails)', async () => {
    const attempt = (statement: string) =>
      inSchema(async () => {
        await c.query('SAVEPOINT probe');
        try {
          await c.query(statement);
          return 'ok';
        } catch (err) {
          return (err as { code?: string }).code ?? 'error';
        } finally {
          await c.query('ROLLBACK TO SAVEPOINT probe');
        }
      });
    expect(await attempt(`INSERT INTO payments (sale_id, method, amount) VALUES (gen_random_uuid(), 'CASH', 1)`)).toBe('23503');
    expect(await attempt(`INSERT INTO payments (sale_id, method, amount) VALUES (md5('sale1')::uuid, 'CASH', 1)`)).toBe('ok');
    expect(await attempt(`UPDATE payments SET sale_id = gen_random_uuid() WHERE sale_id = md5('sale1')::uuid`)).toBe('23503');
    expect(
      await attempt(`INSERT INTO refunds (sale_id, till_session_id, branch_id, amount, tax_amount, reason, refunded_by)
                     VALUES (gen_random_uuid(), '${SESSION}', '${BRANCH}', 1, 0, 'x', '${CASHIER}')`),
    ).toBe('23503');
    expect(await attempt(`INSERT INTO fiscal_documents (branch_id, kind, sale_id, invoice_number) VALUES ('${BRANCH}', 'SALE', gen_random_uuid(), 'X-1')`)).toBe('23503');
    expect(await attempt(`INSERT INTO refund_items (refund_id, sale_item_id, quantity, amount, tax_amount) VALUES (md5('refund4')::uuid, gen_random_uuid(), 1, 1, 0)`)).toBe('23503');
    // A line must name its sale's month too: the composite foreign key.
    expect(
      await attempt(`INSERT INTO sale_items (sale_id, sale_created_at, product_id, batch_id, batch_number, quantity, unit_price, tax_category, tax_rate, line_total)
                     SELECT id, created_at + interval '1 second', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', 'L1', 1, 1, 'EXEMPT', 0, 1
                     FROM sales WHERE id = md5('sale1')::uuid`),
    ).toBe('23503');
    // The referenced side: no delete, no move to another month, no truncate while referenced.
    expect(await attempt(`DELETE FROM sales WHERE id = md5('sale1')::uuid`)).toBe('23503');
    expect(await attempt(`DELETE FROM sale_items WHERE id = md5('item4-1')::uuid`)).toBe('23503');
    expect(await attempt(`UPDATE sales SET created_at = created_at - interval '40 days' WHERE id = md5('sale1')::uuid`)).toBe('23503');
    expect(await attempt(`TRUNCATE sales, sale_items`)).toBe('23503');
    // The application role (no ownership) can still book a payment: the check runs with its rights.
    expect(
      await inSchema(async () => {
        await c.query(`SET LOCAL ROLE ${TEST_APP_ROLE}`);
        await c.query(`INSERT INTO ${SCHEMA}.payments (sale_id, method, amount) VALUES (md5('sale2')::uuid, 'CASH', 1)`);
        const { rows } = await c.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.payments WHERE sale_id = md5('sale2')::uuid`);
        await c.query('ROLLBACK');
        await c.query('BEGIN');
        return rows[0].n;
      }),
    ).toBe(2);
  });

  it('ensureSalePartitions makes the months ahead once, also when called concurrently', async () => {
    const now = new Date();
    const far = new Date(Date.UTC(now.getUTCFullYear() + 1, now.getUTCMonth(), 15));
    const first = await ensureSalePartitions(db.pool, SCHEMA, now, 3);
    expect(first).toEqual({ created: [], inDefault: [] });
        const reports = await Promise.all([db.pool, db.pool, db.pool].map((p) => ensureSalePartitions(p, SCHEMA, far, 2, { since: now })));
    const created = reports.flatMap((r) => r.created).sort();
    // From this month to 14 months ahead: the 11 missing months, each made once by one of the three.
    expect(created).toHaveLength(22);
    expect(new Set(created).size).toBe(22);
    expect((await ensureSalePartitions(db.pool, SCHEMA, far, 2, { since: now })).created).toEqual([]);
  });

  it('a sale of a month without a partition lands in DEFAULT and is never refused; that month is then reported, not made', async () => {
    const now = new Date();
    const later = new Date(Date.UTC(now.getUTCFullYear() + 3, 0, 10));
    const month = `${later.getUTCFullYear()}_01`;
    await inSchema(async () => {
      await c.query(
        `INSERT INTO sales (id, sale_number, branch_id, cashier_id, subtotal, total_amount, prices_include_tax, payment_method, created_at)
         VALUES (md5('late')::uuid, 'BR-LATE', '${BRANCH}', '${CASHIER}', 1, 1, true, 'CASH', $1)`,
        [later],
      );
    });
    const { rows } = await c.query(`SELECT tableoid::regclass::text AS part FROM ${SCHEMA}.sales WHERE id = md5('late')::uuid`);
    expect(rows[0].part).toBe(`${SCHEMA}.sales_default`);
    const report = await ensureSalePartitions(db.pool, SCHEMA, later, 0);
    expect(report.inDefault).toEqual([`sales_${month}`]);
    expect(report.created).toEqual([`sale_items_${month}`]);
    await c.query(`DELETE FROM ${SCHEMA}.sales WHERE id = md5('late')::uuid`);
    expect((await ensureSalePartitions(db.pool, SCHEMA, later, 0)).created).toEqual([`sales_${month}`]);
  });

  it('a backup restores into monthly partitions: every month made first, nothing in DEFAULT, the same rows', async () => {
    const before = await inSchema(async () => (await c.query(FIGURES)).rows[0]);
    const dir = mkdtempSync(join(tmpdir(), 'umi-partitions-'));
    const other = await createTestDatabase();
    try {
      const file = join(dir, 'tenant.umi.gz');
      await exportTenant(db.pool, 'partition-test', file);
      await importTenant(other.pool, file, { appRole: TEST_APP_ROLE });
      const o = await other.pool.connect();
      try {
        const after = await inTransaction(o, async () => {
          await o.query(`SELECT set_config('search_path', $1, true)`, [SCHEMA]);
          const figures = (await o.query(FIGURES)).rows[0];
          const stray = (await o.query(`SELECT (SELECT count(*) FROM sales_default) + (SELECT count(*) FROM sale_items_default) AS n`)).rows[0].n;
          const parts = (await o.query(`SELECT count(DISTINCT tableoid)::int AS n FROM sales`)).rows[0].n;
          return { figures, stray: Number(stray), parts };
        });
        expect(after).toEqual({ figures: before, stray: 0, parts: 5 });
      } finally {
        o.release();
      }
    } finally {
      await other.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
