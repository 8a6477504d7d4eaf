import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation as op, createTenant, createUser, ledgerBreaks, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

// Issue 11, "Refunds and tills" and the credit-note side of VAT, through the gateway. Every seller
// opens a till session before selling and names it, so these scenarios hold whether or not a sale
// finds its seller's session by itself.

const TODAY = dateInZone('Africa/Lusaka');
const inDays = (n: number) => addDays(TODAY, n);

type Gql = { errors?: { message: string; extensions?: Record<string, unknown> }[] };
const code = (r: Gql) => r.errors?.[0]?.extensions?.code;
const reason = (r: Gql) => r.errors?.[0]?.extensions?.reason;
const sum = (values: string[]) => values.reduce((s, v) => s.plus(v), new Decimal(0)).toFixed(2);

interface SaleRow {
  id: string;
  status: string;
  totalAmount: string;
  taxAmount: string;
  items: { id: string; quantity: number; lineTotal: string; taxAmount: string; refundedQuantity: number; product: { id: string } }[];
  payments: { id: string; method: string; amount: string; status: string }[];
}
const SALE_FIELDS = 'id status totalAmount taxAmount items { id quantity lineTotal taxAmount refundedQuantity product { id } } payments { id method amount status }';
const CREATE = `mutation($input: CreateSaleInput!) { createSale(input: $input) { ${SALE_FIELDS} } }`;
const REFUND = `mutation($id: ID!, $reason: String!, $lines: [RefundLineInput!], $tillSessionId: ID) {
  refundSale(id: $id, reason: $reason, lines: $lines, tillSessionId: $tillSessionId) {
    ${SALE_FIELDS} refunds { id amount taxAmount tillSessionId items { saleItemId quantity amount taxAmount quarantineBatchId } }
  }
}`;
const CONFIRM = 'mutation($id: ID!, $ok: Boolean!, $reason: String!) { confirmPayment(paymentId: $id, approved: $ok, reason: $reason) { id status paymentStatus } }';
/** Every Z-report field that existed before issue 11. */
const Z_BEFORE = 'query($id: ID!) { tillSession(id: $id) { status zReport { salesCount grossSales refundsCount refundsAmount taxAmount tenders { method amount } openingFloat expectedCash countedCash variance } } }';
const Z = 'query($id: ID!) { tillSession(id: $id) { status zReport { salesCount grossSales refundsCount refundsAmount refundsTaxAmount taxAmount tenders { method amount } paidOut { method amount } openingFloat expectedCash countedCash variance } } }';

interface ZReport {
  salesCount: number;
  grossSales: string;
  refundsCount: number;
  refundsAmount: string;
  refundsTaxAmount: string;
  taxAmount: string;
  tenders: { method: string; amount: string }[];
  paidOut: { method: string; amount: string }[];
  openingFloat: string;
  expectedCash: string;
  countedCash: string | null;
  variance: string | null;
}

type User = { id: string; token: string };

describe('tills, refunds and credit notes', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let br1: string;
  let schema: string;
  let cashier: User;
  let cashier2: User;
  let pharmacist: User;
  let operations: User;
  let admin: User;
  const products = { std: '', penny: '', zero: '' };
  let tills = 0;

  async function product(sku: string, taxCategory: string): Promise<string> {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `Product ${sku}`, requiresPrescription: false, controlledSubstance: false, taxCategory } },
      { token: t.adminToken },
    );
    return r.createProduct.id;
  }

  async function receive(productId: string, batchNumber: string, quantity: number, sellingPrice: string) {
    await p.ok(op('ReceiveStock'), { input: { branchId: br1, productId, batchNumber, expiryDate: inDays(200), quantity, costPrice: '0.05', sellingPrice } }, { token: t.adminToken });
  }

  /** A new till at the branch with a session opened by `user`. */
  async function openSession(user: User, openingFloat = '0.00'): Promise<string> {
    tills += 1;
    const till = await p.ok<{ createTill: { id: string } }>(op('CreateTill'), { branchId: br1, name: `Till ${tills}` }, { token: t.adminToken });
    const s = await p.ok<{ openTill: { id: string } }>(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat } }, { token: user.token });
    return s.openTill.id;
  }

  const close = (user: User, sessionId: string, countedCash: string) => p.gql(op('CloseTill'), { input: { sessionId, countedCash } }, { token: user.token });

  async function sell(user: User, tillSessionId: string, items: { productId: string; quantity: number }[], extra: Record<string, unknown> = {}): Promise<SaleRow> {
    const r = await p.ok<{ createSale: SaleRow }>(
      CREATE,
      { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items, tillSessionId, ...extra } },
      { token: user.token },
    );
    return r.createSale;
  }

  const refund = (user: User, id: string, extra: { lines?: unknown[]; tillSessionId?: string; reason?: string } = {}) =>
    p.gql<{ refundSale: SaleRow & { refunds: { id: string; amount: string; taxAmount: string; tillSessionId: string; items: { saleItemId: string; quantity: number; amount: string; taxAmount: string; quarantineBatchId: string }[] }[] } }>(
      REFUND,
      { id, reason: extra.reason ?? 'customer brought it back', lines: extra.lines ?? null, tillSessionId: extra.tillSessionId ?? null },
      { token: user.token },
    );

  async function zReport(sessionId: string, token = t.adminToken): Promise<ZReport> {
    return (await p.ok<{ tillSession: { zReport: ZReport } }>(Z, { id: sessionId }, { token })).tillSession.zReport;
  }

  async function stockOf(productId: string): Promise<{ quantityOnHand: number; quantityAvailable: number }> {
    const r = await p.ok<{ branch: { stock: { product: { id: string }; quantityOnHand: number; quantityAvailable: number }[] } }>(op('BranchStock'), { branchId: br1 }, { token: t.adminToken });
    const row = r.branch.stock.find((s) => s.product.id === productId);
    return { quantityOnHand: row?.quantityOnHand ?? 0, quantityAvailable: row?.quantityAvailable ?? 0 };
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    t = await createTenant(p, { branchCount: 1 });
    br1 = t.branches[0]!.id;
    schema = tenantSchemaName(t.subdomain);
    [cashier, cashier2, pharmacist, operations] = await Promise.all([
      createUser(p, t, 'CASHIER', [br1]),
      createUser(p, t, 'CASHIER', [br1]),
      createUser(p, t, 'PHARMACIST', [br1]),
      createUser(p, t, 'OPERATIONS', []),
    ]);
    const me = await p.ok<{ me: { id: string } }>('query { me { id } }', {}, { token: t.adminToken });
    admin = { id: me.me.id, token: t.adminToken };
    products.std = await product('STD-1', 'STANDARD');
    products.penny = await product('PENNY-1', 'STANDARD');
    products.zero = await product('ZERO-1', 'ZERO_RATED');
    await receive(products.std, 'STD-A', 500, '20.00');
    await receive(products.penny, 'PENNY-A', 500, '0.10');
    await receive(products.zero, 'ZERO-A', 500, '45.00');
  });
  afterAll(async () => {
    await p?.close();
  });
  afterEach(async () => {
    // The ledger invariant after every scenario: each batch's quantity on hand is the sum of its movements.
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('leaves a closed session exactly as it was closed when one of its sales is refunded later, and books the refund to the session that paid it out', async () => {
    const s1 = await openSession(cashier);
    const sale = await sell(cashier, s1, [{ productId: products.std, quantity: 1 }]);
    expect((await close(cashier, s1, '20.00')).errors).toBeUndefined();
    const closed = await p.ok<{ tillSession: unknown }>(Z_BEFORE, { id: s1 }, { token: t.adminToken });
    expect(closed.tillSession).toMatchObject({
      status: 'CLOSED',
      zReport: { salesCount: 1, grossSales: '20.00', refundsCount: 0, tenders: [{ method: 'CASH', amount: '20.00' }], expectedCash: '20.00', variance: '0.00' },
    });

    const s2 = await openSession(pharmacist, '50.00');
    const r = await p.ok<{ refundSale: { id: string; status: string } }>(op('RefundSale'), { id: sale.id, reason: 'wrong strength' }, { token: pharmacist.token });
    expect(r.refundSale).toEqual({ id: sale.id, status: 'REFUNDED' });

    // The closed session's Z-report is what it was (before issue 11 the refund rewrote CASH 20.00 to 0.00).
    expect((await p.ok<{ tillSession: unknown }>(Z_BEFORE, { id: s1 }, { token: t.adminToken })).tillSession).toEqual(closed.tillSession);
    const refunds = await p.ok<{ sale: { refunds: unknown[] } }>('query($id: ID!) { sale(id: $id) { refunds { amount taxAmount tillSessionId } } }', { id: sale.id }, { token: t.adminToken });
    expect(refunds.sale.refunds).toEqual([{ amount: '20.00', taxAmount: '2.76', tillSessionId: s2 }]);
    // The paying session shows the refund, its VAT, and the cash that left its drawer.
    expect(await zReport(s2)).toMatchObject({
      salesCount: 0,
      refundsCount: 1,
      refundsAmount: '20.00',
      refundsTaxAmount: '2.76',
      tenders: [{ method: 'CASH', amount: '-20.00' }],
      paidOut: [{ method: 'CASH', amount: '20.00' }],
      expectedCash: '30.00',
    });
    // Every payment is booked to the session that received it.
    const { rows } = await p.db.pool.query(`SELECT till_session_id::text FROM "${schema}".payments WHERE sale_id = $1`, [sale.id]);
    expect(rows).toEqual([{ till_session_id: s1 }]);
    // Nothing can be booked to the closed session, even by hand in SQL.
    await expect(
      p.db.pool.query(`UPDATE "${schema}".refunds SET till_session_id = $1 WHERE sale_id = $2`, [s1, sale.id]),
    ).rejects.toThrow(/closed/);
    expect((await close(pharmacist, s2, '30.00')).errors).toBeUndefined();
  });

  it('pays a refund out of the refunder\'s own open session: none is CONFLICT NO_OPEN_TILL_SESSION, another user\'s is FORBIDDEN', async () => {
    const s = await openSession(cashier2);
    const sale = await sell(cashier2, s, [{ productId: products.zero, quantity: 1 }]);
    const none = await p.gql(op('RefundSale'), { id: sale.id, reason: 'changed their mind' }, { token: pharmacist.token });
    expect(none.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'NO_OPEN_TILL_SESSION' });
    expect(code(await refund(pharmacist, sale.id, { tillSessionId: s }))).toBe('FORBIDDEN');
    const mine = await openSession(pharmacist);
    const ok = await refund(pharmacist, sale.id, { tillSessionId: mine });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.refundSale.refunds[0]!.tillSessionId).toBe(mine);
    expect((await close(pharmacist, mine, '0.00')).errors).toBeUndefined();
  });

  it('refunds in parts, per line and quantity, each unit once; amounts and VAT add up to the sale exactly', async () => {
    const s = await openSession(cashier);
    const pharmacistSession = await openSession(pharmacist);
    // 3 x 0.10 with VAT contained (the line holds 0.04 of VAT), and 2 x 20.00.
    const sale = await sell(cashier, s, [
      { productId: products.penny, quantity: 3 },
      { productId: products.std, quantity: 2 },
    ]);
    expect(sale).toMatchObject({ totalAmount: '40.30' });
    const penny = sale.items.find((i) => i.product.id === products.penny)!;

    const parts: { amount: string; taxAmount: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await refund(pharmacist, sale.id, { lines: [{ saleItemId: penny.id, quantity: 1 }] });
      expect(r.errors).toBeUndefined();
      expect(r.data!.refundSale.status).toBe('PARTIALLY_REFUNDED');
      parts.push(r.data!.refundSale.refunds.at(-1)!);
    }
    // A third of the line each; its 0.04 of VAT goes back half-up on the running share (0.01, then
    // 0.03 - 0.01), and the last part takes the remainder.
    expect(parts.map((x) => x.amount)).toEqual(['0.10', '0.10', '0.10']);
    expect(parts.map((x) => x.taxAmount)).toEqual(['0.01', '0.02', '0.01']);
    expect(sum(parts.map((x) => x.taxAmount))).toBe(penny.taxAmount);

    const over = await refund(pharmacist, sale.id, { lines: [{ saleItemId: penny.id, quantity: 1 }] });
    expect(over.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', reason: 'REFUND_EXCEEDS_REMAINING', remaining: 0 });
    const tooMany = await refund(pharmacist, sale.id, { lines: [{ productId: products.std, quantity: 3 }] });
    expect(tooMany.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT', reason: 'REFUND_EXCEEDS_REMAINING', remaining: 2 });
    expect(code(await refund(pharmacist, sale.id, { lines: [{ productId: products.zero, quantity: 1 }] }))).toBe('NOT_FOUND');
    expect(code(await refund(pharmacist, sale.id, { lines: [{ saleItemId: penny.id, productId: products.std, quantity: 1 }] }))).toBe('BAD_USER_INPUT');

    // Concurrent requests for the last two units: exactly two units go back.
    const racing = await Promise.all(Array.from({ length: 5 }, () => refund(pharmacist, sale.id, { lines: [{ productId: products.std, quantity: 1 }] })));
    expect(racing.filter((r) => !r.errors)).toHaveLength(2);
    for (const r of racing.filter((x) => x.errors)) expect(r.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT' });
    const final = await p.ok<{ sale: SaleRow & { refunds: { amount: string; taxAmount: string }[] } }>(
      `query($id: ID!) { sale(id: $id) { ${SALE_FIELDS} refunds { amount taxAmount } } }`,
      { id: sale.id },
      { token: t.adminToken },
    );
    expect(final.sale.status).toBe('REFUNDED');
    expect(final.sale.items.map((i) => i.refundedQuantity).sort()).toEqual([2, 3]);
    expect(sum(final.sale.refunds.map((r) => r.amount))).toBe(sale.totalAmount);
    expect(sum(final.sale.refunds.map((r) => r.taxAmount))).toBe(sale.taxAmount);
    expect(final.sale.payments.every((x) => x.status === 'REFUNDED')).toBe(true);
    expect(reason(await refund(pharmacist, sale.id))).toBe('SALE_NOT_REFUNDABLE');
    expect((await zReport(pharmacistSession)).refundsAmount).toBe('40.30');
    await close(pharmacist, pharmacistSession, '0.00');
  });

  it('puts refunded medicine into quarantine, not back on sale, until a pharmacist releases it or writes it off', async () => {
    const s = await openSession(cashier);
    const ps = await openSession(pharmacist);
    const quarantined = await product('QUAR-1', 'ZERO_RATED');
    await receive(quarantined, 'QUAR-A', 10, '45.00');
    const start = await stockOf(quarantined);
    const sale = await sell(cashier, s, [{ productId: quarantined, quantity: 4 }]);
    await p.ok(op('RefundSale'), { id: sale.id, reason: 'returned at the counter' }, { token: pharmacist.token });
    // Back in the pharmacy's custody (on hand) but not for sale (available).
    expect(await stockOf(quarantined)).toEqual({ quantityOnHand: start.quantityOnHand, quantityAvailable: start.quantityAvailable - 4 });
    const items = await p.ok<{ sale: { refunds: { items: { quarantineBatchId: string }[] }[] } }>(
      'query($id: ID!) { sale(id: $id) { refunds { items { quarantineBatchId } } } }',
      { id: sale.id },
      { token: t.adminToken },
    );
    const quarantineId = items.sale.refunds[0]!.items[0]!.quarantineBatchId;
    expect(quarantineId).toEqual(expect.any(String));
    const short = await p.gql(CREATE, { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId: quarantined, quantity: 7 }], tillSessionId: s } }, { token: cashier.token });
    expect(reason(short)).toBe('INSUFFICIENT_STOCK');
    const batch = await p.ok<{ product: { batches: { id: string; batchNumber: string; status: string; quantityOnHand: number; quarantineOf: { id: string } | null }[] } }>(
      'query($id: ID!, $b: ID!) { product(id: $id) { batches(branchId: $b) { id batchNumber status quantityOnHand quarantineOf { id } } } }',
      { id: quarantined, b: br1 },
      { token: t.adminToken },
    );
    expect(batch.product.batches.find((b) => b.id === quarantineId)).toMatchObject({ batchNumber: 'QUAR-A', status: 'QUARANTINE', quantityOnHand: 4, quarantineOf: { id: expect.any(String) } });

    const RELEASE = 'mutation($input: QuarantineDecisionInput!) { releaseQuarantine(input: $input) { id status quantityOnHand } }';
    const WRITE_OFF = 'mutation($input: QuarantineDecisionInput!) { writeOffQuarantine(input: $input) { id status quantityOnHand } }';
    const decision = (quantity: number) => ({ input: { batchId: quarantineId, quantity, reason: 'sealed and undamaged' } });
    expect(code(await p.gql(RELEASE, decision(1), { token: cashier.token }))).toBe('FORBIDDEN');
    expect(code(await p.gql(RELEASE, decision(1), { token: operations.token }))).toBe('FORBIDDEN');
    expect(reason(await p.gql(RELEASE, decision(5), { token: pharmacist.token }))).toBe('QUARANTINE_EXCEEDED');
    const lot = batch.product.batches.find((b) => b.id === quarantineId)!.quarantineOf!.id;
    expect(code(await p.gql(RELEASE, { input: { batchId: lot, quantity: 1, reason: 'not quarantine' } }, { token: pharmacist.token }))).toBe('BAD_USER_INPUT');
    const released = await p.ok<{ releaseQuarantine: { id: string; status: string } }>(RELEASE, decision(3), { token: pharmacist.token });
    expect(released.releaseQuarantine).toMatchObject({ id: lot, status: 'AVAILABLE' });
    expect(await stockOf(quarantined)).toEqual({ quantityOnHand: start.quantityOnHand, quantityAvailable: start.quantityAvailable - 1 });
    const written = await p.ok<{ writeOffQuarantine: { quantityOnHand: number } }>(WRITE_OFF, decision(1), { token: pharmacist.token });
    expect(written.writeOffQuarantine.quantityOnHand).toBe(0);
    expect(await stockOf(quarantined)).toEqual({ quantityOnHand: start.quantityOnHand - 1, quantityAvailable: start.quantityAvailable - 1 });
    const { rows } = await p.db.pool.query(`SELECT type, quantity FROM "${schema}".stock_movements WHERE batch_id = $1 ORDER BY created_at, quantity`, [quarantineId]);
    expect(rows).toEqual([
      { type: 'REFUND', quantity: 4 },
      { type: 'QUARANTINE_RELEASE', quantity: -3 },
      { type: 'QUARANTINE_WRITE_OFF', quantity: -1 },
    ]);
    // The quarantine batch's status is not set by hand.
    expect(reason(await p.gql('mutation($id: ID!) { setBatchStatus(id: $id, status: AVAILABLE, reason: "looks fine") { id } }', { id: quarantineId }, { token: t.adminToken }))).toBe(
      'QUARANTINE_BATCH',
    );
    await close(cashier, s, '180.00');
    await close(pharmacist, ps, '0.00');
  });

  it('counts the cash part of a voided split payment out of the drawer that handed it back', async () => {
    const s = await openSession(cashier, '100.00');
    const sale = await sell(cashier, s, [{ productId: products.zero, quantity: 2 }], {
      paymentMethod: 'MOBILE_MONEY',
      payments: [
        { method: 'CASH', amount: '40.00', tendered: '50.00' },
        { method: 'MOBILE_MONEY', amount: '50.00' },
      ],
    });
    expect((await zReport(s)).expectedCash).toBe('140.00');
    // A session with an unanswered mobile-money request does not close.
    expect(reason(await close(cashier, s, '140.00'))).toBe('TILL_SESSION_HAS_PENDING_PAYMENTS');
    const momo = sale.payments.find((x) => x.method === 'MOBILE_MONEY')!;
    const voided = await p.ok<{ confirmPayment: { status: string; paymentStatus: string } }>(CONFIRM, { id: momo.id, ok: false, reason: 'payer declined on the phone' }, { token: admin.token });
    expect(voided.confirmPayment).toMatchObject({ status: 'VOIDED', paymentStatus: 'REFUNDED' });
    const z = await zReport(s);
    // The 40.00 handed back left this drawer: expected cash is the float again.
    expect(z).toMatchObject({ salesCount: 0, expectedCash: '100.00', paidOut: [{ method: 'CASH', amount: '40.00' }], tenders: [{ method: 'CASH', amount: '0.00' }] });
    const closed = await close(cashier, s, '100.00');
    expect(closed.errors).toBeUndefined();
    expect((await zReport(s)).variance).toBe('0.00');
  });

  it('blind cash-up: a cashier cannot read expected cash of an open session; the opener or a manager closes it, another cashier cannot', async () => {
    const s = await openSession(cashier, '10.00');
    await sell(cashier, s, [{ productId: products.std, quantity: 1 }]);
    const blind = await p.gql<{ tillSession: unknown }>(op('TillSession'), { id: s }, { token: cashier.token });
    expect(code(blind)).toBe('FORBIDDEN');
    expect(blind.errors![0]!.message).not.toContain('30.00');
    expect(code(await p.gql(Z, { id: s }, { token: pharmacist.token }))).toBe('FORBIDDEN');
    // What a cashier may still read of it: the sales, not the drawer.
    const open = await p.ok<{ tillSession: { zReport: { salesCount: number } } }>('query($id: ID!) { tillSession(id: $id) { zReport { salesCount } } }', { id: s }, { token: cashier.token });
    expect(open.tillSession.zReport.salesCount).toBe(1);
    expect((await zReport(s, operations.token)).expectedCash).toBe('30.00');

    expect(code(await close(cashier2, s, '30.00'))).toBe('FORBIDDEN');
    const closed = await p.ok<{ closeTill: { status: string; zReport: { expectedCash: string; variance: string } } }>(op('CloseTill'), { input: { sessionId: s, countedCash: '29.00' } }, { token: cashier.token });
    expect(closed.closeTill).toMatchObject({ status: 'CLOSED', zReport: { expectedCash: '30.00', variance: '-1.00' } });
    // Once closed, the cashier sees the whole report.
    expect((await p.ok<{ tillSession: { zReport: { expectedCash: string } } }>(op('TillSession'), { id: s }, { token: cashier.token })).tillSession.zReport.expectedCash).toBe('30.00');

    const other = await openSession(cashier2);
    expect((await close(operations, other, '0.00')).errors).toBeUndefined();
  });

  it('approving a mobile-money payment by hand is an ADMIN act with a reason, audited', async () => {
    const s = await openSession(cashier);
    const sale = await sell(cashier, s, [{ productId: products.std, quantity: 1 }], { paymentMethod: 'MOBILE_MONEY' });
    const momo = sale.payments[0]!;
    for (const user of [cashier, pharmacist, operations]) {
      expect(code(await p.gql(CONFIRM, { id: momo.id, ok: true, reason: 'payer approved' }, { token: user.token }))).toBe('FORBIDDEN');
    }
    expect(code(await p.gql(CONFIRM, { id: momo.id, ok: true, reason: ' ' }, { token: admin.token }))).toBe('BAD_USER_INPUT');
    expect(code(await p.gql('mutation($id: ID!) { confirmPayment(paymentId: $id, approved: true) { id } }', { id: momo.id }, { token: admin.token }))).toBe('GRAPHQL_VALIDATION_FAILED');
    const approved = await p.ok<{ confirmPayment: { paymentStatus: string } }>(CONFIRM, { id: momo.id, ok: true, reason: 'MTN statement shows it paid' }, { token: admin.token });
    expect(approved.confirmPayment.paymentStatus).toBe('PAID');
    const { rows } = await p.db.pool.query(`SELECT action, user_id::text, new_values FROM "${schema}".audit_logs WHERE entity_id = $1`, [momo.id]);
    expect(rows).toEqual([{ action: 'PAYMENT_APPROVED', user_id: admin.id, new_values: expect.objectContaining({ reason: 'MTN statement shows it paid' }) }]);
    expect(await zReport(s)).toMatchObject({ tenders: [{ method: 'MOBILE_MONEY', amount: '20.00' }] });
    await close(cashier, s, '0.00');
  });

  it('books a refund as a credit note of the period it happens in: the sale stays in its period, the refund\'s period shows the negative amounts and VAT', async () => {
    const s = await openSession(cashier);
    const sale = await sell(cashier, s, [{ productId: products.std, quantity: 2 }]);
    await close(cashier, s, '40.00');
    // The sale was made three days ago (the database's clock is the only one the report reads).
    // A sale's time is its partition key and its lines carry it (0010): both move together, past
    // the triggers that otherwise refuse moving a sale (this suite connects as a superuser).
    const c = await p.db.pool.connect();
    try {
      await c.query(`BEGIN; SET LOCAL session_replication_role = replica`);
      await c.query(`UPDATE "${schema}".sales SET created_at = created_at - interval '3 days' WHERE id = $1`, [sale.id]);
      await c.query(`UPDATE "${schema}".sale_items SET sale_created_at = sale_created_at - interval '3 days' WHERE sale_id = $1`, [sale.id]);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    const then = inDays(-3);
    const REPORT = `query($b: ID!, $from: Date!, $to: Date!) { salesReport(branchId: $b, from: $from, to: $to) {
      totalSales totalAmount taxAmount refundedSales refundedAmount refundsCount refundsAmount refundsTaxAmount netAmount netTaxAmount
      byDay { date count amount refundsAmount netAmount } } }`;
    const report = async (from: string, to: string) =>
      (await p.ok<{ salesReport: Record<string, unknown> }>(REPORT, { b: br1, from, to }, { token: t.adminToken })).salesReport;
    const before = await report(then, then);
    expect(before).toMatchObject({ totalSales: 1, totalAmount: '40.00', taxAmount: '5.52', refundsCount: 0 });

    const adminSession = await openSession(admin);
    await p.ok(op('RefundSale'), { id: sale.id, reason: 'recalled lot' }, { token: admin.token });
    // The sale's period keeps the sale (the contract's SalesReport, as the admin portal reads it)...
    const kept = await p.ok<{ salesReport: Record<string, unknown> }>(op('SalesReport'), { branchId: br1, from: then, to: then }, { token: t.adminToken });
    expect(kept.salesReport).toMatchObject({ totalSales: 1, totalAmount: '40.00', taxAmount: '5.52', byDay: [{ date: then, count: 1, amount: '40.00' }] });
    // ... and only learns that it has been refunded since.
    expect(await report(then, then)).toMatchObject({
      totalSales: 1,
      totalAmount: '40.00',
      taxAmount: '5.52',
      refundedSales: 1,
      refundedAmount: '40.00',
      refundsCount: 0,
      refundsAmount: '0.00',
      netAmount: '40.00',
      byDay: [{ date: then, count: 1, amount: '40.00', refundsAmount: '0.00', netAmount: '40.00' }],
    });
    // Today carries the credit note.
    const today = await report(TODAY, TODAY);
    const { rows } = await p.db.pool.query(
      `SELECT count(*)::int AS n, coalesce(sum(total_amount), 0)::text AS amount, coalesce(sum(tax_amount), 0)::text AS tax FROM "${schema}".sales
       WHERE branch_id = $1 AND status <> 'VOIDED' AND payment_status IN ('PAID', 'REFUNDED') AND id <> $2`,
      [br1, sale.id],
    );
    const refunds = await p.db.pool.query(`SELECT count(*)::int AS n, sum(amount)::text AS amount, sum(tax_amount)::text AS tax FROM "${schema}".refunds WHERE branch_id = $1`, [br1]);
    expect(today).toMatchObject({
      totalSales: rows[0].n,
      totalAmount: new Decimal(rows[0].amount).toFixed(2),
      refundsCount: refunds.rows[0].n,
      refundsAmount: new Decimal(refunds.rows[0].amount).toFixed(2),
      refundsTaxAmount: new Decimal(refunds.rows[0].tax).toFixed(2),
      netAmount: new Decimal(rows[0].amount).minus(refunds.rows[0].amount).toFixed(2),
      netTaxAmount: new Decimal(rows[0].tax).minus(refunds.rows[0].tax).toFixed(2),
    });
    expect(Number(today.refundsCount)).toBeGreaterThanOrEqual(1);
    expect(await report(then, TODAY)).toMatchObject({ refundsAmount: today.refundsAmount, totalAmount: new Decimal(rows[0].amount).plus('40.00').toFixed(2) });
    // The Z-report of the session that paid it shows the VAT refunded.
    expect(await zReport(adminSession)).toMatchObject({ refundsCount: 1, refundsAmount: '40.00', refundsTaxAmount: '5.52' });
    await close(admin, adminSession, '0.00');
  });
});
