import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { quoteIdent, tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, createUser, ledgerBreaks, openTillSession, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const TODAY = dateInZone('Africa/Lusaka');

type Sold = { createSale: { id: string; saleNumber: string } };

/** Resolves to what `p` resolves to, or to 'pending' if it has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms).unref())]);
}

/**
 * Issue 14: checkout takes the branch's sale number as its transaction's last statement, so two
 * checkouts of one branch overlap: one that holds its stock and has written its ledger rows does
 * not stop another from committing, and the numbers stay gap-free and in commit order.
 */
describe('checkout: the sale number is taken last', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let br1: string;
  let schema: string;
  let cashier: { id: string; token: string };
  let slow = '';
  let fast = '';

  async function product(sku: string): Promise<string> {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `Product ${sku}`, requiresPrescription: false, controlledSubstance: false, taxCategory: 'STANDARD' } },
      { token: t.adminToken },
    );
    const id = r.createProduct.id;
    await p.ok(
      op('ReceiveStock'),
      { input: { branchId: br1, productId: id, batchNumber: `${sku}-A`, expiryDate: addDays(TODAY, 300), quantity: 100, costPrice: '1.00', sellingPrice: '10.00' } },
      { token: t.adminToken },
    );
    return id;
  }

  const sell = (productId: string, extra: Record<string, unknown> = {}) =>
    p.gql<Sold>(op('CreateSale'), { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId, quantity: 2 }], ...extra } }, { token: cashier.token });

  async function numbers(): Promise<string[]> {
    const { rows } = await p.db.pool.query<{ sale_number: string }>(`SELECT sale_number FROM ${quoteIdent(schema)}.sales WHERE branch_id = $1 ORDER BY sale_number`, [br1]);
    return rows.map((r) => r.sale_number);
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    t = await createTenant(p, { branchCount: 1 });
    br1 = t.branches[0]!.id;
    schema = tenantSchemaName(t.subdomain);
    cashier = await createUser(p, t, 'CASHIER', [br1]);
    await openTillSession(p, t, cashier.token, br1);
    [slow, fast] = await Promise.all([product('SLOW-1'), product('FAST-1')]);
  });

  afterAll(async () => {
    await p?.close();
  });

  it('a checkout holding its stock and ledger rows does not hold up another at the branch; numbers follow commit order with no gap', async () => {
    expect((await sell(fast)).errors).toBeUndefined();
    // A test-only trigger parks the slow product's checkout while it writes its sale lines: by then
    // it has locked and allocated its stock and appended its stock movements, and only the sale
    // number (and the commit) are left. The test holds the advisory lock that trigger waits for.
    const s = quoteIdent(schema);
    await p.db.pool.query(
      `CREATE FUNCTION ${s}.park_sale_line() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.product_id = '${slow}'::uuid THEN PERFORM pg_advisory_xact_lock_shared(1414014); END IF;
         RETURN NEW;
       END $$;
       CREATE TRIGGER park_sale_line BEFORE INSERT ON ${s}.sale_items FOR EACH ROW EXECUTE FUNCTION ${s}.park_sale_line();`,
    );
    let holder: PoolClient | null = await p.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(1414014)');
      const parked = sell(slow);
      // Wait until the slow checkout is parked on the trigger.
      for (let i = 0; ; i++) {
        const { rows } = await p.db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 1414014 AND NOT granted`);
        if (rows[0].n === 1) break;
        if (i > 200) throw new Error('the slow checkout never reached its sale lines');
        await new Promise((r) => setTimeout(r, 50));
      }
      // The other till's checkout, of another product, commits while the slow one is parked.
      const other = await within(sell(fast), 15_000);
      if (other === 'pending') throw new Error('the other checkout waited for the parked one: the sale number was held');
      expect(other.errors).toBeUndefined();
      expect(other.data!.createSale.saleNumber).toBe('BR01-000002');
      // The parked checkout still holds nothing else of the branch's: it is waiting only for us.
      expect(await within(parked, 300)).toBe('pending');

      await holder.query('COMMIT');
      holder.release();
      holder = null;
      const slowSale = await parked;
      expect(slowSale.errors).toBeUndefined();
      // Committed after the other: the next number, no gap.
      expect(slowSale.data!.createSale.saleNumber).toBe('BR01-000003');
      expect(await numbers()).toEqual(['BR01-000001', 'BR01-000002', 'BR01-000003']);

      // Its movement was written before the sale had a number: the row names the sale by id, and
      // the movements page reads the number.
      const raw = await p.db.pool.query(`SELECT reference, reference_id::text FROM ${s}.stock_movements WHERE type = 'SALE' AND product_id = $1`, [slow]);
      expect(raw.rows).toEqual([{ reference: null, reference_id: slowSale.data!.createSale.id }]);
      const page = await p.ok<{ stockMovements: { edges: { node: { type: string; reference: string | null } }[] } }>(
        op('StockMovements'),
        { branchId: br1, productId: slow, first: 10 },
        { token: t.adminToken },
      );
      expect(page.stockMovements.edges.map((e) => e.node)).toEqual([
        expect.objectContaining({ type: 'SALE', reference: 'BR01-000003' }),
        expect.objectContaining({ type: 'GRN' }),
      ]);
      // The sale.completed event carries the number the sale got.
      const events = await p.db.pool.query(`SELECT payload #>> '{data,saleNumber}' AS n FROM ${s}.outbox WHERE event_type = 'sale.completed' AND aggregate_id = $1`, [
        slowSale.data!.createSale.id,
      ]);
      expect(events.rows).toEqual([{ n: 'BR01-000003' }]);
    } finally {
      if (holder) {
        await holder.query('ROLLBACK');
        holder.release();
      }
      await p.db.pool.query(`DROP TRIGGER IF EXISTS park_sale_line ON ${s}.sale_items; DROP FUNCTION IF EXISTS ${s}.park_sale_line()`);
    }
  });

  it('a checkout that fails after taking its stock leaves no gap and no unnumbered sale', async () => {
    const short = await sell(fast, { tendered: '1.00' });
    expect(short.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const next = await sell(fast);
    expect(next.errors).toBeUndefined();
    expect(next.data!.createSale.saleNumber).toBe('BR01-000004');
    const all = await numbers();
    expect(all).toEqual(['BR01-000001', 'BR01-000002', 'BR01-000003', 'BR01-000004']);
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('many checkouts of one branch at once: every number once, 1..n', async () => {
    const before = (await numbers()).length;
    const sold = await Promise.all(Array.from({ length: 12 }, (_, i) => sell(i % 2 ? fast : slow)));
    expect(sold.flatMap((r) => r.errors ?? [])).toEqual([]);
    const all = await numbers();
    expect(all).toEqual(Array.from({ length: before + 12 }, (_, i) => `BR01-${String(i + 1).padStart(6, '0')}`));
    const { rows } = await p.db.pool.query(`SELECT count(*)::int AS n FROM ${quoteIdent(schema)}.sales WHERE sale_number LIKE '~%'`);
    expect(rows[0].n).toBe(0);
  });
});
