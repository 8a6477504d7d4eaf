import { randomUUID } from 'node:crypto';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, createUser, ledgerBreaks, openTillSession, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const TODAY = dateInZone('Africa/Lusaka');
const inDays = (n: number) => addDays(TODAY, n);

type Gql = { errors?: { message: string; extensions?: Record<string, unknown> }[] };
const code = (r: Gql) => r.errors?.[0]?.extensions?.code;

interface SaleResult {
  id: string;
  saleNumber: string;
  status: string;
  subtotal: string;
  taxAmount: string;
  discountAmount: string;
  totalAmount: string;
  paymentMethod: string;
  items: { quantity: number; unitPrice: string; lineTotal: string; batchNumber: string; product: { id: string; sku: string; name: string } }[];
  cashier: { id: string; email: string };
  branch: { id: string; code: string };
}

/** The POS contract operations through the gateway, and checkout under concurrency, retries and bad input. */
describe('contract: pos', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let other: TenantFixture;
  let br1: string;
  let br2: string;
  let schema: string;
  let cashier: { id: string; email: string; token: string };
  let pharmacist: { id: string; email: string; token: string };
  const products = { std: '', zero: '', exempt: '' };

  async function product(sku: string, taxCategory: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `Product ${sku}`, requiresPrescription: false, controlledSubstance: false, taxCategory, ...extra } },
      { token: t.adminToken },
    );
    return r.createProduct.id;
  }

  async function receive(productId: string, batchNumber: string, expiryDate: string, quantity: number, sellingPrice: string, branchId = br1) {
    await p.ok(op('ReceiveStock'), { input: { branchId, productId, batchNumber, expiryDate, quantity, costPrice: '1.00', sellingPrice } }, { token: t.adminToken });
  }

  const sale = (token: string, input: Record<string, unknown>) =>
    p.gql<{ createSale: SaleResult }>(op('CreateSale'), { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), ...input } }, { token });

  async function counts(): Promise<{ sales: number; movements: number; payments: number; keys: number; units: number }> {
    const { rows } = await p.db.pool.query(
      `SELECT (SELECT count(*) FROM "${schema}".sales)::int AS sales, (SELECT count(*) FROM "${schema}".stock_movements)::int AS movements,
              (SELECT count(*) FROM "${schema}".payments)::int AS payments, (SELECT count(*) FROM "${schema}".idempotency_keys)::int AS keys,
              (SELECT coalesce(sum(quantity_on_hand), 0) FROM "${schema}".inventory_batches)::int AS units`,
    );
    return rows[0];
  }

  async function onHand(productId: string): Promise<number> {
    const { rows } = await p.db.pool.query(`SELECT coalesce(sum(quantity_on_hand), 0)::int AS n FROM "${schema}".inventory_batches WHERE product_id = $1`, [productId]);
    return rows[0].n;
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    [t, other] = await Promise.all([createTenant(p, { branchCount: 2 }), createTenant(p, { branchCount: 1 })]);
    br1 = t.branches[0]!.id;
    br2 = t.branches[1]!.id;
    schema = tenantSchemaName(t.subdomain);
    [cashier, pharmacist] = await Promise.all([createUser(p, t, 'CASHIER', [br1]), createUser(p, t, 'PHARMACIST', [br1])]);
    // Every sale is booked to an open till session of its seller at the branch.
    await Promise.all([openTillSession(p, t, cashier.token, br1), openTillSession(p, other, other.adminToken, other.branches[0]!.id)]);
    products.std = await product('STD-1', 'STANDARD');
    products.zero = await product('ZERO-1', 'ZERO_RATED');
    products.exempt = await product('EXM-1', 'EXEMPT');
    await receive(products.std, 'STD-EARLY', inDays(30), 1, '100.00');
    await receive(products.std, 'STD-LATE', inDays(300), 500, '100.00');
    await receive(products.zero, 'ZERO-A', inDays(200), 500, '45.00');
    await receive(products.exempt, 'EXM-A', inDays(200), 500, '20.00');
  });
  afterAll(async () => {
    await p?.close();
  });
  afterEach(async () => {
    // The ledger invariant after every test: each batch's quantity on hand is the sum of its movements.
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('runs CreateSale: FEFO lines per batch, VAT contained per line, change, readable number; then Sale with its receipt', async () => {
    const r = await sale(cashier.token, {
      items: [
        { productId: products.std, quantity: 2 },
        { productId: products.zero, quantity: 1 },
        { productId: products.exempt, quantity: 3 },
      ],
      tendered: '400.00',
    });
    expect(r.errors).toBeUndefined();
    const s = r.data!.createSale;
    expect(s).toMatchObject({
      saleNumber: 'BR01-000001',
      status: 'COMPLETED',
      paymentMethod: 'CASH',
      subtotal: '305.00',
      // VAT per line bought, not per batch: 200.00 at 16% contains 27.59 (per batch it was 2 x 13.79).
      taxAmount: '27.59',
      discountAmount: '0.00',
      totalAmount: '305.00',
      cashier: { id: cashier.id, email: cashier.email },
      branch: { id: br1, code: 'BR01' },
    });
    const lines = s.items.map((i) => [i.product.sku, i.batchNumber, i.quantity, i.unitPrice, i.lineTotal]).sort();
    expect(lines).toEqual(
      [
        ['EXM-1', 'EXM-A', 3, '20.00', '60.00'],
        ['STD-1', 'STD-EARLY', 1, '100.00', '100.00'],
        ['STD-1', 'STD-LATE', 1, '100.00', '100.00'],
        ['ZERO-1', 'ZERO-A', 1, '45.00', '45.00'],
      ].sort(),
    );

    const read = await p.ok<{ sale: { saleNumber: string; totalAmount: string; status: string; createdAt: string; items: unknown[]; receipt: { text: string } } }>(op('Sale'), { id: s.id }, { token: cashier.token });
    expect(read.sale).toMatchObject({ saleNumber: 'BR01-000001', totalAmount: '305.00', status: 'COMPLETED' });
    expect(read.sale.items).toHaveLength(4);
    const text = read.sale.receipt.text;
    for (const needle of ['BR01-000001', `Pharmacy ${t.subdomain}`, 'Product STD-1', '305.00', '95.00', 'C3']) expect(text).toContain(needle);
    expect(text.split('\n').every((line) => line.length <= 40)).toBe(true);

    const { rows } = await p.db.pool.query(`SELECT payload FROM "${schema}".outbox WHERE event_type = 'sale.completed' AND aggregate_id = $1`, [s.id]);
    expect(rows).toEqual([{ payload: expect.objectContaining({ data: expect.objectContaining({ saleNumber: 'BR01-000001', totalAmount: '305.00' }) }) }]);
  });

  it('applies a discount before VAT and takes split payments; mobile money stays PENDING until approved', async () => {
    const discounted = await sale(cashier.token, { items: [{ productId: products.std, quantity: 1 }], discountAmount: '10.00' });
    expect(discounted.data!.createSale).toMatchObject({ subtotal: '100.00', discountAmount: '10.00', taxAmount: '12.41', totalAmount: '90.00' });

    const split = await p.gql<{ createSale: { id: string; payments: { method: string; amount: string; status: string }[]; paymentStatus: string; changeGiven: string } }>(
      'mutation($input: CreateSaleInput!) { createSale(input: $input) { id paymentStatus changeGiven payments { method amount status } } }',
      {
        input: {
          branchId: br1,
          idempotencyKey: randomUUID(),
          paymentMethod: 'CARD',
          items: [{ productId: products.zero, quantity: 2 }],
          payments: [
            { method: 'CARD', amount: '50.00', reference: 'AUTH-1' },
            { method: 'CASH', amount: '40.00', tendered: '50.00' },
          ],
        },
      },
      { token: cashier.token },
    );
    expect(split.errors).toBeUndefined();
    expect(split.data!.createSale).toMatchObject({ paymentStatus: 'PAID', changeGiven: '10.00' });

    const momo = await p.ok<{ createSale: { id: string; paymentStatus: string; payments: { id: string; status: string }[] } }>(
      'mutation($input: CreateSaleInput!) { createSale(input: $input) { id paymentStatus payments { id status } } }',
      { input: { branchId: br1, idempotencyKey: randomUUID(), paymentMethod: 'MOBILE_MONEY', items: [{ productId: products.exempt, quantity: 1 }] } },
      { token: cashier.token },
    );
    expect(momo.createSale).toMatchObject({ paymentStatus: 'PENDING', payments: [{ status: 'PENDING' }] });
    const events = async () =>
      (await p.db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE event_type = 'sale.completed' AND aggregate_id = $1`, [momo.createSale.id])).rows[0].n;
    expect(await events()).toBe(0);
    // Until the provider answers by itself, an ADMIN records its answer, with a reason.
    const confirm =
      'mutation($id: ID!, $ok: Boolean!, $ref: String) { confirmPayment(paymentId: $id, approved: $ok, providerReference: $ref, reason: "provider statement") { paymentStatus status } }';
    const approved = await p.ok<{ confirmPayment: { paymentStatus: string } }>(confirm, { id: momo.createSale.payments[0]!.id, ok: true, ref: 'MTN-123' }, { token: t.adminToken });
    expect(approved.confirmPayment.paymentStatus).toBe('PAID');
    expect(await events()).toBe(1);
    expect(code(await p.gql(confirm, { id: momo.createSale.payments[0]!.id, ok: true, ref: 'MTN-124' }, { token: t.adminToken }))).toBe('CONFLICT');

    // A declined request voids the sale and puts its stock back.
    const before = await onHand(products.exempt);
    const declined = await p.ok<{ createSale: { payments: { id: string }[] } }>(
      'mutation($input: CreateSaleInput!) { createSale(input: $input) { payments { id } } }',
      { input: { branchId: br1, idempotencyKey: randomUUID(), paymentMethod: 'MOBILE_MONEY', items: [{ productId: products.exempt, quantity: 2 }] } },
      { token: cashier.token },
    );
    expect(await onHand(products.exempt)).toBe(before - 2);
    const voided = await p.ok<{ confirmPayment: { status: string } }>(confirm, { id: declined.createSale.payments[0]!.id, ok: false }, { token: t.adminToken });
    expect(voided.confirmPayment.status).toBe('VOIDED');
    expect(await onHand(products.exempt)).toBe(before);
  });

  it('replays a checkout with the same key, refuses the key with another cart, and survives a retry storm with one sale', async () => {
    const key = randomUUID();
    const input = { items: [{ productId: products.zero, quantity: 1 }], idempotencyKey: key };
    const first = await sale(cashier.token, input);
    const again = await sale(cashier.token, input);
    expect(again.data!.createSale.id).toBe(first.data!.createSale.id);
    const changed = await sale(cashier.token, { ...input, items: [{ productId: products.zero, quantity: 2 }] });
    expect(code(changed)).toBe('CONFLICT');

    const stormKey = randomUUID();
    const before = await counts();
    const storm = await Promise.all(Array.from({ length: 20 }, () => sale(cashier.token, { items: [{ productId: products.exempt, quantity: 1 }], idempotencyKey: stormKey })));
    const ids = new Set(storm.map((r) => r.data?.createSale.id));
    expect(storm.every((r) => r.errors === undefined)).toBe(true);
    expect(ids.size).toBe(1);
    const after = await counts();
    expect(after.sales - before.sales).toBe(1);
    expect(after.units - before.units).toBe(-1);
  });

  it('50 concurrent checkouts for the last 10 units across two batches: exactly 10 sold, the rest refused, stock 0', async () => {
    const last = await product('LAST-10', 'STANDARD');
    await receive(last, 'LAST-A', inDays(40), 6, '12.00');
    await receive(last, 'LAST-B', inDays(80), 4, '12.00');
    const results = await Promise.all(Array.from({ length: 50 }, () => sale(cashier.token, { items: [{ productId: last, quantity: 1 }] })));
    const sold = results.filter((r) => !r.errors);
    const refused = results.filter((r) => r.errors);
    expect(sold).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(r.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT_STOCK' });
      expect(r.errors![0]!.message).toMatch(/^Insufficient stock of Product LAST-10: 1 requested, 0 available$/);
    }
    expect(await onHand(last)).toBe(0);
    const { rows } = await p.db.pool.query(
      `SELECT m.batch_id, sum(m.quantity)::int AS moved, min(m.balance_after)::int AS min FROM "${schema}".stock_movements m WHERE m.product_id = $1 AND m.type = 'SALE' GROUP BY m.batch_id`,
      [last],
    );
    expect(rows.map((r) => r.moved).sort((a, b) => a - b)).toEqual([-6, -4]);
    expect(rows.every((r) => r.min === 0)).toBe(true);
    // Sale numbers stay unique and gapless under contention.
    const numbers = sold.map((r) => Number(r.data!.createSale.saleNumber.slice(5))).sort((a, b) => a - b);
    expect(numbers[numbers.length - 1]! - numbers[0]!).toBe(9);
  });

  it("a checkout waiting for stock holds no sale number: the branch's other tills keep selling, numbers stay gapless", async () => {
    const busy = await product('BUSY-1', 'STANDARD');
    const free = await product('FREE-1', 'STANDARD');
    await receive(busy, 'BUSY-A', inDays(100), 5, '10.00');
    await receive(free, 'FREE-A', inDays(100), 5, '10.00');
    // Another transaction (a stock count, a slow sale of the same product) holds BUSY-1's stock lock.
    const holder = await p.db.pool.connect();
    let waiting: Promise<Gql & { data?: { createSale: SaleResult } | null }> | null = null;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".product_branch_settings WHERE product_id = $1 AND branch_id = $2 FOR UPDATE`, [busy, br1]);
      waiting = sale(cashier.token, { items: [{ productId: busy, quantity: 1 }] });
      // The first checkout is queued on the stock lock...
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await p.db.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()`);
        if (rows[0].n > 0) break;
        if (Date.now() > deadline) throw new Error('the first checkout never queued on the stock lock');
        await new Promise((r) => setTimeout(r, 50));
      }
      // ...and a sale of another product at the same branch completes meanwhile (it queued behind
      // the first one's sale number, for as long as the stock lock was held, when the number came first).
      let timer: NodeJS.Timeout | undefined;
      const other = await Promise.race([
        sale(cashier.token, { items: [{ productId: free, quantity: 1 }] }),
        new Promise<'blocked'>((r) => (timer = setTimeout(() => r('blocked'), 20_000))),
      ]);
      clearTimeout(timer);
      expect(other).not.toBe('blocked');
      if (other === 'blocked') return;
      expect(other.errors).toBeUndefined();
      await holder.query('COMMIT');
      const first = await waiting;
      expect(first.errors).toBeUndefined();
      // The first checkout took its number after the second: still one sequence, no gap.
      expect(Number(first.data!.createSale.saleNumber.slice(5))).toBe(Number(other.data!.createSale.saleNumber.slice(5)) + 1);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
      await waiting;
    }
  });

  it('refuses bad input with clear errors and writes nothing', async () => {
    const foreign = (await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku: 'F-1', name: 'Foreign', requiresPrescription: false, controlledSubstance: false } }, { token: other.adminToken })).createProduct.id;
    const pom = await product('POM-1', 'ZERO_RATED', { requiresPrescription: true });
    await receive(pom, 'POM-A', inDays(100), 10, '80.00');
    const before = await counts();
    const item = [{ productId: products.zero, quantity: 1 }];
    const cases: [Record<string, unknown>, string, RegExp?][] = [
      [{ items: [] }, 'BAD_USER_INPUT', /empty/],
      [{ items: [{ productId: products.zero, quantity: 0 }] }, 'BAD_USER_INPUT', /quantity/],
      [{ items: [{ productId: products.zero, quantity: -2 }] }, 'BAD_USER_INPUT', /quantity/],
      [{ items: [{ productId: randomUUID(), quantity: 1 }] }, 'NOT_FOUND', /Product/],
      [{ items: [{ productId: foreign, quantity: 1 }] }, 'NOT_FOUND', /Product/],
      [{ items: [{ productId: 'nope', quantity: 1 }] }, 'BAD_USER_INPUT', /productId/],
      [{ items: item, discountAmount: '45.01' }, 'BAD_USER_INPUT', /discountAmount/],
      [{ items: item, discountAmount: '1.234' }, 'BAD_USER_INPUT', /discountAmount/],
      [{ items: item, discountAmount: '12,50' }, 'BAD_USER_INPUT'],
      [{ items: item, discountAmount: 5 }, 'BAD_USER_INPUT'],
      [{ items: item, tendered: '10.00' }, 'BAD_USER_INPUT', /tendered/],
      [{ items: item, paymentMethod: 'CARD', payments: [{ method: 'CARD', amount: '40.00' }] }, 'BAD_USER_INPUT', /payments/],
      [{ items: [{ productId: products.zero, quantity: 100000 }] }, 'CONFLICT', /Insufficient stock/],
      [{ items: [{ productId: pom, quantity: 1 }] }, 'FORBIDDEN', /prescription/],
      [{ items: item, branchId: br2 }, 'FORBIDDEN'],
      [{ items: item, branchId: other.branches[0]!.id }, 'FORBIDDEN'],
      [{ items: item, idempotencyKey: 'short' }, 'BAD_USER_INPUT', /idempotencyKey/],
    ];
    for (const [input, expected, message] of cases) {
      const r = await sale(cashier.token, input);
      expect({ input, code: code(r) }).toEqual({ input, code: expected });
      if (message) expect(r.errors![0]!.message).toMatch(message);
    }
    // An admin may sell anywhere in the tenant, but another tenant's branch does not exist for them.
    expect(code(await sale(t.adminToken, { items: item, branchId: other.branches[0]!.id }))).toBe('NOT_FOUND');
    expect(await counts()).toEqual(before);
  });

  it('runs RefundSale: the branch pharmacist on the day, once, out of their open till session; stock goes back into quarantine; cashiers may not', async () => {
    const s = (await sale(cashier.token, { items: [{ productId: products.std, quantity: 3 }] })).data!.createSale;
    const before = await onHand(products.std);
    const till = await p.ok<{ createTill: { id: string } }>(op('CreateTill'), { branchId: br1, name: 'Dispensary' }, { token: t.adminToken });
    await p.ok(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat: '500.00' } }, { token: pharmacist.token });
    expect(code(await p.gql(op('RefundSale'), { id: s.id, reason: 'wrong item' }, { token: cashier.token }))).toBe('FORBIDDEN');
    expect(code(await p.gql(op('RefundSale'), { id: s.id, reason: '' }, { token: pharmacist.token }))).toBe('BAD_USER_INPUT');
    const refunded = await p.ok<{ refundSale: { id: string; status: string } }>(op('RefundSale'), { id: s.id, reason: 'customer returned it unopened' }, { token: pharmacist.token });
    expect(refunded.refundSale).toEqual({ id: s.id, status: 'REFUNDED' });
    expect(await onHand(products.std)).toBe(before + 3);
    expect(code(await p.gql(op('RefundSale'), { id: s.id, reason: 'again' }, { token: t.adminToken }))).toBe('CONFLICT');
    const receipt = await p.ok<{ sale: { receipt: { text: string } } }>(op('Sale'), { id: s.id }, { token: cashier.token });
    expect(receipt.sale.receipt.text).toContain('REFUNDED');
    // The sale's own movement is written before the sale has its number (taken last): it names the
    // sale by id only; the refund's, written later, carries the number too.
    const { rows } = await p.db.pool.query(
      `SELECT m.type, m.quantity, m.reference, s.sale_number FROM "${schema}".stock_movements m JOIN "${schema}".sales s ON s.id = m.reference_id
       WHERE m.reference_id = $1 ORDER BY m.type`,
      [s.id],
    );
    const number = expect.stringMatching(/^BR01-\d{6}$/);
    expect(rows).toEqual([
      { type: 'REFUND', quantity: 3, reference: number, sale_number: number },
      { type: 'SALE', quantity: -3, reference: null, sale_number: number },
    ]);
    expect(rows[0].reference).toBe(rows[0].sale_number);
  });

  it('runs Sales and SalesReport with the branch and report rules', async () => {
    const page = await p.ok<{ sales: { edges: { node: { saleNumber: string; createdAt: string; cashier: { email: string } } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(
      op('Sales'),
      { branchId: br1, first: 2 },
      { token: cashier.token },
    );
    expect(page.sales.edges).toHaveLength(2);
    expect(page.sales.edges[0]!.node.cashier.email).toBe(cashier.email);
    expect(page.sales.pageInfo.hasNextPage).toBe(true);
    const next = await p.ok<{ sales: { edges: { node: { saleNumber: string } }[] } }>(op('Sales'), { branchId: br1, first: 2, after: page.sales.pageInfo.endCursor }, { token: cashier.token });
    expect(next.sales.edges.map((e) => e.node.saleNumber)).not.toContain(page.sales.edges[0]!.node.saleNumber);
    const future = await p.ok<{ sales: { edges: unknown[] } }>(op('Sales'), { branchId: br1, first: 5, from: new Date(Date.now() + 3_600_000).toISOString() }, { token: cashier.token });
    expect(future.sales.edges).toEqual([]);
    expect(code(await p.gql(op('Sales'), { branchId: br2, first: 5 }, { token: cashier.token }))).toBe('FORBIDDEN');

    const report = await p.ok<{ salesReport: { totalSales: number; totalAmount: string; taxAmount: string; byDay: { date: string; count: number; amount: string }[]; topProducts: { product: { sku: string }; quantity: number; amount: string }[] } }>(
      op('SalesReport'),
      { branchId: br1, from: inDays(-1), to: TODAY },
      { token: t.adminToken },
    );
    const { rows } = await p.db.pool.query(
      // Sales made in the period stay in it when refunded later (the refund is a credit note of its own day).
      `SELECT count(*)::int AS n, sum(total_amount)::text AS amount FROM "${schema}".sales WHERE branch_id = $1 AND status <> 'VOIDED' AND payment_status IN ('PAID', 'REFUNDED')`,
      [br1],
    );
    expect(report.salesReport.totalSales).toBe(rows[0].n);
    expect(report.salesReport.totalAmount).toBe(rows[0].amount);
    expect(report.salesReport.byDay).toEqual([{ date: TODAY, count: rows[0].n, amount: rows[0].amount }]);
    expect(report.salesReport.topProducts[0]!.product.sku).toBeDefined();
    expect(code(await p.gql(op('SalesReport'), { branchId: br1, from: TODAY, to: TODAY }, { token: cashier.token }))).toBe('FORBIDDEN');
    expect(code(await p.gql(op('SalesReport'), { branchId: br1, from: TODAY, to: inDays(-3) }, { token: t.adminToken }))).toBe('BAD_USER_INPUT');
    const analyst = await createUser(p, t, 'PHARMACIST', [br2], { canViewReports: [br1] });
    expect((await p.gql(op('SalesReport'), { branchId: br1, from: TODAY, to: TODAY }, { token: analyst.token })).errors).toBeUndefined();
  });

  it('adds VAT at the till for a tenant whose prices exclude tax', async () => {
    const token = other.adminToken;
    const branchId = other.branches[0]!.id;
    const settings = await p.ok<{ updateTenantSettings: { pricesIncludeTax: boolean } }>(
      'mutation { updateTenantSettings(input: { pricesIncludeTax: false }) { pricesIncludeTax } }',
      {},
      { token },
    );
    expect(settings.updateTenantSettings.pricesIncludeTax).toBe(false);
    expect(code(await p.gql('mutation { updateTenantSettings(input: { pricesIncludeTax: true }) { pricesIncludeTax } }', {}, { token: cashier.token }))).toBe('FORBIDDEN');
    const id = (await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku: 'EXCL-1', name: 'Exclusive', requiresPrescription: false, controlledSubstance: false } }, { token })).createProduct.id;
    await p.ok(op('ReceiveStock'), { input: { branchId, productId: id, batchNumber: 'EX-1', expiryDate: inDays(100), quantity: 10, costPrice: '1.00', sellingPrice: '100.00' } }, { token });
    const r = await p.ok<{ createSale: SaleResult }>(op('CreateSale'), { input: { branchId, paymentMethod: 'CARD', idempotencyKey: randomUUID(), items: [{ productId: id, quantity: 1 }], discountAmount: '10.00' } }, { token });
    expect(r.createSale).toMatchObject({ subtotal: '100.00', discountAmount: '10.00', taxAmount: '14.40', totalAmount: '104.40' });
  });

  it('opens a till with a float and closes it with a Z-report of expected against counted cash (CreateTill, OpenTill, TillSession, CloseTill)', async () => {
    const till = await p.ok<{ createTill: { id: string; name: string } }>(op('CreateTill'), { branchId: br1, name: 'Front' }, { token: t.adminToken });
    expect(till.createTill.name).toBe('Front');
    expect(code(await p.gql(op('CreateTill'), { branchId: br1, name: 'Back' }, { token: cashier.token }))).toBe('FORBIDDEN');
    const session = await p.ok<{ openTill: { id: string; status: string; openingFloat: string } }>(
      op('OpenTill'),
      { input: { tillId: till.createTill.id, openingFloat: '200.00' } },
      { token: cashier.token },
    );
    expect(session.openTill).toMatchObject({ status: 'OPEN', openingFloat: '200.00' });
    expect(code(await p.gql(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat: '0.00' } }, { token: cashier.token }))).toBe('CONFLICT');
    await sale(cashier.token, { items: [{ productId: products.std, quantity: 1 }], tendered: '150.00', tillSessionId: session.openTill.id });
    await sale(cashier.token, { items: [{ productId: products.zero, quantity: 1 }], paymentMethod: 'CARD', tillSessionId: session.openTill.id });
    const open = await p.ok<{ tillSession: { status: string; zReport: Record<string, unknown> } }>(op('TillSession'), { id: session.openTill.id }, { token: t.adminToken });
    expect(open.tillSession).toMatchObject({ status: 'OPEN', zReport: { salesCount: 2, grossSales: '145.00', countedCash: null, variance: null } });
    const closed = await p.ok<{ closeTill: { status: string; zReport: Record<string, unknown> } }>(
      op('CloseTill'),
      { input: { sessionId: session.openTill.id, countedCash: '295.00' } },
      { token: cashier.token },
    );
    expect(closed.closeTill).toMatchObject({
      status: 'CLOSED',
      zReport: { salesCount: 2, grossSales: '145.00', refundsCount: 0, refundsAmount: '0.00', expectedCash: '300.00', countedCash: '295.00', variance: '-5.00' },
    });
    const tenders = await p.ok<{ tillSession: { zReport: { tenders: unknown[] } } }>(
      'query($id: ID!) { tillSession(id: $id) { zReport { tenders { method amount } } } }',
      { id: session.openTill.id },
      { token: t.adminToken },
    );
    expect(tenders.tillSession.zReport.tenders).toEqual([
      { method: 'CARD', amount: '45.00' },
      { method: 'CASH', amount: '100.00' },
    ]);
    expect(code(await sale(cashier.token, { items: [{ productId: products.std, quantity: 1 }], tillSessionId: session.openTill.id }))).toBe('CONFLICT');
  });
});
