import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { createAppPool, tenantSchemaName } from '@umi/db';
import { addDays, createLogger, dateInZone } from '@umi/kit';
import { startFiscalWorker, type FiscalWorker } from '@umi/subgraph-pos';
import { startVsdcSimulator, type VsdcSimulator } from '@umi/simulators';
import { contractOperation as op, createTenant, createUser, ledgerBreaks, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

// Issue 12, "Fiscalisation", through the gateway against the VSDC simulator on an ephemeral port.
// The federation's own worker is off (FISCAL_WORKER=false): each test runs the workers it needs,
// so a worker can be "killed" between the VSDC's answer and our storing it.

const TODAY = dateInZone('Africa/Lusaka');
const TPIN = '1002003004';
const DEVICE_SERIAL = 'UMI-TEST-VSDC-01';

const FISCAL = 'status receiptType invoiceNumber receiptNumber originalReceiptNumber creditNoteReason internalData signature sdcId mrcNumber vsdcTime fiscalisedAt qrContent attempts lastError';
const SALE = `query($id: ID!) { sale(id: $id) { id saleNumber zraReceiptNumber fiscal { ${FISCAL} } receipt { text } refunds { id fiscal { ${FISCAL} } } } }`;

interface Fiscal {
  status: string;
  receiptType: string;
  invoiceNumber: string | null;
  receiptNumber: string | null;
  originalReceiptNumber: string | null;
  creditNoteReason: string | null;
  internalData: string | null;
  signature: string | null;
  sdcId: string | null;
  mrcNumber: string | null;
  vsdcTime: string | null;
  fiscalisedAt: string | null;
  qrContent: string | null;
  attempts: number;
  lastError: string | null;
}
interface SaleView {
  id: string;
  saleNumber: string;
  zraReceiptNumber: string | null;
  fiscal: Fiscal;
  receipt: { text: string };
  refunds: { id: string; fiscal: Fiscal }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fiscal receipts (ZRA Smart Invoice through the VSDC simulator)', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let vsdc: VsdcSimulator;
  let br1: string;
  let schema: string;
  let session: string;
  const pool = () => createAppPool(p.env.DATABASE_URL!, 4, p.env.DATABASE_APP_ROLE);
  const pools: ReturnType<typeof createAppPool>[] = [];
  const workers: FiscalWorker[] = [];
  const products = { std: '', zero: '', exempt: '' };
  const logger = createLogger('fiscal-test', process.env.TEST_LOG_LEVEL ?? 'silent');

  function worker(opts: Partial<Parameters<typeof startFiscalWorker>[0]> = {}): FiscalWorker {
    const pl = pool();
    pools.push(pl);
    const w = startFiscalWorker({ pool: pl, logger, pollMs: 100, retryBaseMs: 200, retryMaxMs: 1_000, stockSyncLagMs: 0, ...opts });
    workers.push(w);
    return w;
  }
  async function stopWorkers(): Promise<void> {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  }

  async function product(sku: string, taxCategory: string): Promise<string> {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `Product ${sku}`, requiresPrescription: false, controlledSubstance: false, taxCategory } },
      { token: t.adminToken },
    );
    return r.createProduct.id;
  }

  async function sell(items: { productId: string; quantity: number }[], extra: Record<string, unknown> = {}): Promise<{ id: string; saleNumber: string }> {
    const r = await p.ok<{ createSale: { id: string; saleNumber: string } }>(
      'mutation($input: CreateSaleInput!) { createSale(input: $input) { id saleNumber } }',
      { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items, tillSessionId: session, ...extra } },
      { token: t.adminToken },
    );
    return r.createSale;
  }

  const read = async (id: string) => (await p.ok<{ sale: SaleView }>(SALE, { id }, { token: t.adminToken })).sale;

  /** Polls until `done` holds for the sale (the worker runs after commit, on its own clock). */
  async function until(id: string, done: (s: SaleView) => boolean, ms = 30_000): Promise<SaleView> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await read(id);
      if (done(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for sale ${s.saleNumber}: ${JSON.stringify(s.fiscal)}`);
      await sleep(100);
    }
  }

  beforeAll(async () => {
    vsdc = await startVsdcSimulator({ port: 0 });
    p = await startTestPlatform({ FISCAL_WORKER: 'false' });
    t = await createTenant(p, { branchCount: 1 });
    br1 = t.branches[0]!.id;
    schema = tenantSchemaName(t.subdomain);
    await p.ok('mutation($i: FiscalSettingsInput!) { updateFiscalSettings(input: $i) { tpin } }', { i: { tpin: TPIN } }, { token: t.adminToken });
    await p.ok(
      'mutation($i: FiscalDeviceInput!) { configureFiscalDevice(input: $i) { branchId } }',
      { i: { branchId: br1, bhfId: '000', deviceSerial: DEVICE_SERIAL, vsdcUrl: vsdc.url } },
      { token: t.adminToken },
    );
    products.std = await product('FIS-STD', 'STANDARD');
    products.zero = await product('FIS-ZERO', 'ZERO_RATED');
    products.exempt = await product('FIS-EXEMPT', 'EXEMPT');
    // The standard-rated product has codes of its own; the others get the defaults.
    await p.ok(
      'mutation($id: ID!, $i: ProductFiscalCodesInput!) { setProductFiscalCodes(productId: $id, input: $i) { itemCode } }',
      { id: products.std, i: { itemCode: 'ZM2BXU9000001', itemClassCode: '51101500', packagingUnit: 'BX', quantityUnit: 'U', originCountry: 'IN' } },
      { token: t.adminToken },
    );
    for (const [id, price] of [
      [products.std, '100.00'],
      [products.zero, '45.50'],
      [products.exempt, '12.25'],
    ] as const) {
      await p.ok(op('ReceiveStock'), { input: { branchId: br1, productId: id, batchNumber: `B-${id.slice(0, 6)}`, expiryDate: addDays(TODAY, 300), quantity: 1000, costPrice: '1.00', sellingPrice: price } }, { token: t.adminToken });
    }
    const till = await p.ok<{ createTill: { id: string } }>(op('CreateTill'), { branchId: br1, name: 'Fiscal till' }, { token: t.adminToken });
    session = (await p.ok<{ openTill: { id: string } }>(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat: '0.00' } }, { token: t.adminToken })).openTill.id;
  });
  afterEach(async () => {
    await stopWorkers();
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
  });
  afterAll(async () => {
    await stopWorkers();
    await Promise.all(pools.map((x) => x.end()));
    await p?.close();
    await vsdc?.close();
  });

  it('fiscalises a sale once and prints its receipt number, signature and QR content on the receipt (and on a reprint)', async () => {
    const before = await read((await sell([{ productId: products.std, quantity: 1 }])).id);
    // The till never waits: the sale answers before the VSDC heard of it.
    expect(before.fiscal).toMatchObject({ status: 'PENDING', receiptType: 'S', invoiceNumber: before.saleNumber, receiptNumber: null });
    expect(before.receipt.text).toContain('ZRA receipt: pending');

    worker();
    const sale = await until(before.id, (s) => s.fiscal.status === 'FISCALISED');
    const accepted = vsdc.invoices.filter((i) => i.cisInvcNo === sale.saleNumber);
    expect(accepted).toHaveLength(1);
    const receipt = accepted[0]!.receipt;
    expect(accepted[0]!.duplicates).toBe(0);
    expect(sale.fiscal).toMatchObject({
      status: 'FISCALISED',
      receiptNumber: String(receipt.rcptNo),
      internalData: receipt.intrlData,
      signature: receipt.rcptSign,
      sdcId: receipt.sdcId,
      mrcNumber: receipt.mrcNo,
      vsdcTime: receipt.vsdcRcptPbctDate,
      qrContent: receipt.qrCodeUrl,
      attempts: 1,
      lastError: null,
    });
    expect(sale.zraReceiptNumber).toBe(String(receipt.rcptNo));
    const text = sale.receipt.text;
    expect(text).toContain(`ZRA receipt: ${receipt.rcptNo}`);
    expect(text).toMatch(new RegExp(`Receipt no\\.\\s+${receipt.rcptNo}\\b`));
    expect(text).toContain(receipt.sdcId);
    expect(text).toContain(receipt.mrcNo);
    expect(text.replace(/\n\s*/g, '')).toContain(receipt.rcptSign);
    // The QR content is printed whole across lines of at most 40 characters.
    expect(text.split('\n').every((l) => l.length <= 40)).toBe(true);
    expect(text.split('QR:\n')[1]!.split('\n\n')[0]!.split('\n').map((l) => l.trim()).join('')).toBe(receipt.qrCodeUrl);
    expect(text).toContain(`TPIN: ${TPIN}`);
    // A reprint (the receipt read again later) shows the same fiscal block.
    expect((await read(sale.id)).receipt.text).toBe(text);
    if (process.env.FISCAL_RECEIPT_OUT) writeFileSync(process.env.FISCAL_RECEIPT_OUT, text);
  });

  it('sends saveSales with every field the guide lists for a STANDARD, a ZERO_RATED and an EXEMPT line, VAT per category from the lines', async () => {
    worker();
    const made = await sell(
      [
        { productId: products.std, quantity: 2 },
        { productId: products.zero, quantity: 2 },
        { productId: products.exempt, quantity: 1 },
      ],
      { paymentMethod: 'CASH', payments: [{ method: 'CASH', amount: '100.00' }, { method: 'CARD', amount: '203.25' }] },
    );
    await until(made.id, (s) => s.fiscal.status === 'FISCALISED');
    const sent = vsdc.invoice(made.saleNumber)!.payload as Record<string, unknown>;
    const codes = await p.ok<{ productFiscalCodes: { itemCode: string } }>('query($id: ID!) { productFiscalCodes(productId: $id) { itemCode } }', { id: products.zero }, { token: t.adminToken });
    const exemptCodes = await p.ok<{ productFiscalCodes: { itemCode: string } }>('query($id: ID!) { productFiscalCodes(productId: $id) { itemCode } }', { id: products.exempt }, { token: t.adminToken });
    expect(sent).toMatchObject({
      tpin: TPIN,
      bhfId: '000',
      dvcSrlNo: DEVICE_SERIAL,
      cisInvcNo: made.saleNumber,
      orgInvcNo: 0,
      salesTyCd: 'N',
      rcptTyCd: 'S',
      // Split tender: the largest payment's method (CARD 203.25 over CASH 100.00) is the invoice's.
      pmtTyCd: '05',
      salesSttsCd: '02',
      rfdRsnCd: null,
      totItemCnt: 3,
      taxblAmtA: 172.41,
      taxRtA: 16,
      taxAmtA: 27.59,
      taxblAmtB: 0,
      taxRtB: 16,
      taxAmtB: 0,
      taxblAmtC1: 0,
      taxRtC1: 0,
      taxAmtC1: 0,
      taxblAmtC2: 0,
      taxRtC2: 0,
      taxAmtC2: 0,
      taxblAmtC3: 91,
      taxRtC3: 0,
      taxAmtC3: 0,
      taxblAmtD: 12.25,
      taxRtD: 0,
      taxAmtD: 0,
      totTaxblAmt: 275.66,
      totTaxAmt: 27.59,
      totAmt: 303.25,
      currencyTyCd: 'ZMW',
      regrId: 'umi-pos',
      regrNm: 'Umi Health POS',
    });
    expect(sent.cfmDt).toMatch(/^\d{14}$/);
    expect(sent.salesDt).toBe(String(sent.cfmDt).slice(0, 8));
    const lines = sent.itemList as Record<string, unknown>[];
    const byCategory = Object.fromEntries(lines.map((l) => [l.vatCatCd, l]));
    expect(lines.map((l) => l.itemSeq)).toEqual([1, 2, 3]);
    expect(byCategory.A).toMatchObject({ itemCd: 'ZM2BXU9000001', itemClsCd: '51101500', itemNm: 'Product FIS-STD', pkgUnitCd: 'BX', qtyUnitCd: 'U', qty: 2, prc: 100, splyAmt: 200, dcAmt: 0, vatCatCd: 'A', vatTaxblAmt: 172.41, vatAmt: 27.59, totAmt: 200 });
    expect(byCategory.C3).toMatchObject({ itemCd: codes.productFiscalCodes.itemCode, itemClsCd: '51000000', pkgUnitCd: 'BX', qtyUnitCd: 'U', qty: 2, prc: 45.5, dcAmt: 0, vatCatCd: 'C3', vatTaxblAmt: 91, vatAmt: 0, totAmt: 91 });
    expect(byCategory.D).toMatchObject({ itemCd: exemptCodes.productFiscalCodes.itemCode, qty: 1, prc: 12.25, dcAmt: 0, vatCatCd: 'D', vatTaxblAmt: 12.25, vatAmt: 0, totAmt: 12.25 });
    // Each item was registered with the VSDC (saveItem) with its class, units and mapped VAT category.
    const saved = vsdc.requests.filter((r) => r.path.endsWith('/items/saveItem')).map((r) => r.body as Record<string, unknown>);
    expect(saved.find((b) => b.itemCd === 'ZM2BXU9000001')).toMatchObject({ itemClsCd: '51101500', orgnNatCd: 'IN', vatCatCd: 'A', useYn: 'Y', tpin: TPIN, bhfId: '000' });
    expect(saved.find((b) => b.itemCd === exemptCodes.productFiscalCodes.itemCode)).toMatchObject({ vatCatCd: 'D' });
  });

  it('issues a credit note (R) for a partial refund, referencing the original receipt number, with the reason code and the refunded lines only', async () => {
    worker();
    const made = await sell([
      { productId: products.std, quantity: 3 },
      { productId: products.zero, quantity: 1 },
    ]);
    const sale = await until(made.id, (s) => s.fiscal.status === 'FISCALISED');
    await p.ok(
      'mutation($id: ID!, $lines: [RefundLineInput!], $r: CreditNoteReason) { refundSale(id: $id, reason: "one box damaged", lines: $lines, creditNoteReason: $r) { id } }',
      { id: made.id, lines: [{ productId: products.std, quantity: 1 }], r: 'DAMAGED_GOODS' },
      { token: t.adminToken },
    );
    const after = await until(made.id, (s) => s.refunds[0]?.fiscal.status === 'FISCALISED');
    const note = vsdc.invoice(`${made.saleNumber}-R1`)!;
    expect(note.payload).toMatchObject({
      rcptTyCd: 'R',
      orgInvcNo: Number(sale.fiscal.receiptNumber),
      rfdRsnCd: '3',
      pmtTyCd: '01',
      totItemCnt: 1,
      taxblAmtA: 86.21,
      taxAmtA: 13.79,
      taxblAmtC3: 0,
      totAmt: 100,
      itemList: [expect.objectContaining({ itemCd: 'ZM2BXU9000001', qty: 1, prc: 100, vatCatCd: 'A', vatAmt: 13.79, totAmt: 100 })],
    });
    expect(after.refunds[0]!.fiscal).toMatchObject({
      status: 'FISCALISED',
      receiptType: 'R',
      invoiceNumber: `${made.saleNumber}-R1`,
      receiptNumber: String(note.receipt.rcptNo),
      originalReceiptNumber: sale.fiscal.receiptNumber,
      creditNoteReason: 'DAMAGED_GOODS',
    });
    // The sale's own invoice is untouched.
    expect(after.fiscal.receiptNumber).toBe(sale.fiscal.receiptNumber);
  });

  // 30 s of VSDC downtime during 50 sales: every send fails, the backlog grows and alerts, then
  // drains in order once the VSDC is back.
  it('keeps selling through a VSDC outage, shows the backlog and alerts once, then fiscalises every sale exactly once and in order (two workers)', async () => {
    await p.ok('mutation { updateFiscalSettings(input: { backlogAlertSeconds: 3 }) { backlogAlertSeconds } }', {}, { token: t.adminToken });
    const registry = new Registry();
    worker({ registry });
    worker();
    const acceptedBefore = vsdc.invoices.length;
    vsdc.control.fail({ forMs: 30_000 });
    const started = Date.now();
    const sales: { id: string; saleNumber: string }[] = [];
    for (let i = 0; i < 50; i++) sales.push(await sell([{ productId: i % 2 ? products.std : products.zero, quantity: 1 }]));
    const madeIn = Date.now() - started;

    const backlog = await p.ok<{ fiscalBacklog: { count: number; oldestAgeSeconds: number; oldestInvoiceNumber: string; lastError: string | null } }>(
      'query($b: ID!) { fiscalBacklog(branchId: $b) { count oldestAgeSeconds oldestInvoiceNumber lastError } }',
      { b: br1 },
      { token: t.adminToken },
    );
    // The sales take a few seconds, well inside the outage (asserted, so the checks below always run).
    expect(madeIn).toBeLessThan(25_000);
    {
      expect(backlog.fiscalBacklog.count).toBe(50);
      expect(backlog.fiscalBacklog.oldestInvoiceNumber).toBe(sales[0]!.saleNumber);
      expect(vsdc.invoices.length).toBe(acceptedBefore);
    }
    // The gauge follows the backlog while the VSDC is down.
    await sleep(4_000);
    expect(Date.now() - started).toBeLessThan(29_000);
    {
      const gauge = (await registry.getSingleMetric('fiscal_backlog')!.get()).values.find((v) => v.labels.branch === br1);
      expect(gauge?.value).toBeGreaterThan(0);
    }

    const last = await until(sales.at(-1)!.id, (s) => s.fiscal.status === 'FISCALISED', 60_000);
    expect(last.fiscal.attempts).toBeGreaterThanOrEqual(1);
    const receipts: number[] = [];
    for (const s of sales) {
      const view = await read(s.id);
      expect(view.fiscal.status).toBe('FISCALISED');
      const accepted = vsdc.invoices.filter((i) => i.cisInvcNo === s.saleNumber);
      expect(accepted).toHaveLength(1);
      expect(accepted[0]!.duplicates).toBe(0);
      expect(view.fiscal.receiptNumber).toBe(String(accepted[0]!.receipt.rcptNo));
      receipts.push(accepted[0]!.receipt.rcptNo);
    }
    // In the order the sales were made: receipt numbers strictly increasing, one after the other.
    expect(receipts).toEqual(receipts.map((_, i) => receipts[0]! + i));
    const after = await p.ok<{ fiscalBacklog: { count: number; oldestAgeSeconds: number } }>('query($b: ID!) { fiscalBacklog(branchId: $b) { count oldestAgeSeconds } }', { b: br1 }, { token: t.adminToken });
    expect(after.fiscalBacklog).toEqual({ count: 0, oldestAgeSeconds: 0 });

    // An alert when the oldest unsent invoice passed 3 s, once per episode rather than once per
    // cycle (~80 cycles here). Draining may dip under 3 s and pass it again on a loaded machine:
    // a new episode, so a second alert is allowed, not one per cycle or per document.
    const alerts = await p.db.pool.query<{ payload: { data: { oldestInvoiceNumber: string; count: number } } }>(
      `SELECT payload FROM ${schema}.outbox WHERE event_type = 'fiscal.backlog_alert' ORDER BY created_at`,
    );
    expect(alerts.rows.length).toBeGreaterThanOrEqual(1);
    expect(alerts.rows.length).toBeLessThanOrEqual(3);
    expect(alerts.rows[0]!.payload.data.oldestInvoiceNumber).toBe(sales[0]!.saleNumber);
    await p.ok('mutation { updateFiscalSettings(input: { backlogAlertSeconds: 1800 }) { backlogAlertSeconds } }', {}, { token: t.adminToken });
  }, 180_000);

  it('a worker killed after the VSDC answered but before the answer was stored sends nothing twice: the restarted worker gets the same receipt', async () => {
    const made = await sell([{ productId: products.exempt, quantity: 2 }]);
    let killed = false;
    const doomed = worker({
      hooks: {
        afterAnswer: (doc) => {
          if (doc.invoiceNumber !== made.saleNumber || killed) return;
          killed = true;
          throw new Error('worker killed');
        },
      },
    });
    const deadline = Date.now() + 30_000;
    while (!killed && Date.now() < deadline) await sleep(50);
    expect(killed).toBe(true);
    await doomed.stop();
    // The VSDC has the invoice; we have no answer.
    expect(vsdc.invoice(made.saleNumber)).toBeDefined();
    expect((await read(made.id)).fiscal).toMatchObject({ status: 'PENDING', receiptNumber: null, attempts: 1 });

    worker();
    const sale = await until(made.id, (s) => s.fiscal.status === 'FISCALISED');
    const accepted = vsdc.invoices.filter((i) => i.cisInvcNo === made.saleNumber);
    expect(accepted).toHaveLength(1);
    // The resend was the same invoice under the same number: the VSDC answered its first receipt.
    expect(accepted[0]!.duplicates).toBe(1);
    expect(sale.fiscal.receiptNumber).toBe(String(accepted[0]!.receipt.rcptNo));
    expect(sale.fiscal.attempts).toBe(2);
  });

  it('syncs stock with the VSDC: a movement per sale and receipt, and the stock on hand', async () => {
    worker();
    const made = await sell([{ productId: products.std, quantity: 4 }]);
    await until(made.id, (s) => s.fiscal.status === 'FISCALISED');
    const deadline = Date.now() + 20_000;
    const stdCode = 'ZM2BXU9000001';
    for (;;) {
      const sent = vsdc.requests.filter((r) => r.path.endsWith('/stock/saveStockItems') && (r.body as { remark?: string }).remark === made.saleNumber);
      if (sent.length > 0) {
        expect(sent[0]!.body).toMatchObject({ sarTyCd: '11', regTyCd: 'A', itemList: [expect.objectContaining({ itemCd: stdCode, qty: 4 })] });
        break;
      }
      if (Date.now() > deadline) throw new Error('no saveStockItems for the sale');
      await sleep(100);
    }
    await worker().runOnce();
    const stock = await p.ok<{ branch: { stock: { product: { id: string }; quantityOnHand: number }[] } }>(op('BranchStock'), { branchId: br1 }, { token: t.adminToken });
    const onHand = stock.branch.stock.find((s) => s.product.id === products.std)!.quantityOnHand;
    const masters = vsdc.requests.filter((r) => r.path.endsWith('/stockMaster/saveStockMaster')).map((r) => (r.body as { stockItemList: { itemCd: string; rsdQty: number }[] }).stockItemList);
    expect(masters.flat().filter((i) => i.itemCd === stdCode).at(-1)?.rsdQty).toBe(onHand);
    expect(vsdc.requests.some((r) => r.path.endsWith('/stock/saveStockItems') && (r.body as { sarTyCd: string }).sarTyCd === '02')).toBe(true);
  });

  it('fiscalises a mobile-money sale only once it is paid, as payment type 06', async () => {
    worker();
    const made = await sell([{ productId: products.zero, quantity: 1 }], { paymentMethod: 'MOBILE_MONEY' });
    await sleep(1_000);
    expect((await read(made.id)).fiscal.status).toBe('NOT_REQUIRED');
    expect(vsdc.invoice(made.saleNumber)).toBeUndefined();
    const pay = await p.ok<{ sale: { payments: { id: string }[] } }>('query($id: ID!) { sale(id: $id) { payments { id } } }', { id: made.id }, { token: t.adminToken });
    await p.ok(
      'mutation($id: ID!) { confirmPayment(paymentId: $id, approved: true, providerReference: "MP261130.0601.K95198", reason: "payer showed the confirmation SMS") { id } }',
      { id: pay.sale.payments[0]!.id },
      { token: t.adminToken },
    );
    await until(made.id, (s) => s.fiscal.status === 'FISCALISED');
    expect(vsdc.invoice(made.saleNumber)!.payload).toMatchObject({ rcptTyCd: 'S', pmtTyCd: '06', totAmt: 45.5 });
  });

  it('keeps the fiscal configuration to ADMINs', async () => {
    const cashier = await createUser(p, t, 'CASHIER', [br1]);
    const operations = await createUser(p, t, 'OPERATIONS', []);
    for (const u of [cashier, operations]) {
      expect((await p.gql('query { fiscalSettings { tpin } }', {}, { token: u.token })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const r = await p.gql('mutation($i: FiscalDeviceInput!) { configureFiscalDevice(input: $i) { branchId } }', { i: { branchId: br1, bhfId: '001', deviceSerial: 'X', vsdcUrl: 'http://127.0.0.1:1/zravsdc' } }, { token: u.token });
      expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const settings = await p.ok<{ fiscalSettings: { tpin: string; devices: { bhfId: string; sdcId: string | null }[] } }>('query { fiscalSettings { tpin devices { bhfId sdcId } } }', {}, { token: t.adminToken });
    expect(settings.fiscalSettings).toMatchObject({ tpin: TPIN, devices: [{ bhfId: '000', sdcId: expect.stringMatching(/^SDC\d{10}$/) }] });
    const bad = await p.gql('mutation { updateFiscalSettings(input: { tpin: "12" }) { tpin } }', {}, { token: t.adminToken });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const audit = await p.db.pool.query(`SELECT action, entity_type FROM ${schema}.audit_logs WHERE entity_type IN ('FiscalSettings', 'FiscalDevice', 'ProductFiscalCodes')`);
    expect(audit.rows.map((r: { entity_type: string }) => r.entity_type).sort()).toEqual(expect.arrayContaining(['FiscalDevice', 'FiscalSettings', 'ProductFiscalCodes']));
  });
});
