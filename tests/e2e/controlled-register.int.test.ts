import { tenantSchemaName } from '@umi/db';
import { addDays, createLogger, dateInZone } from '@umi/kit';
import { purgeControlledRegister } from '../../subgraphs/pharmacy/src/jobs/register-retention';
import { contractOperation, createTenant, createUser, ledgerBreaks, registerBreaks, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const TODAY = dateInZone('Africa/Lusaka');
const inDays = (n: number) => addDays(TODAY, n);
type Gql = { errors?: { message: string; extensions?: Record<string, unknown> }[] };
const failure = (r: Gql) => ({ code: r.errors?.[0]?.extensions?.code, reason: r.errors?.[0]?.extensions?.reason });

interface Line {
  timestamp: string;
  quantity: number;
  balanceAfter: number;
  batchNumber: string;
  movementType: string;
  reason: string | null;
  reference: string | null;
  supplierName: string | null;
  deliveryReference: string | null;
  pharmacist: { id: string } | null;
  witness: { id: string } | null;
  product: { id: string };
}

interface ExportPage {
  controlledRegisterExport: {
    broughtForward: { balance: number; product: { id: string } }[];
    carriedForward: { balance: number; product: { id: string } }[];
    edges: { cursor: string; node: Line }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const EXPORT = `query($b: ID!, $from: Date!, $to: Date!, $p: ID, $first: Int!, $after: String) {
  controlledRegisterExport(branchId: $b, from: $from, to: $to, productId: $p, first: $first, after: $after) {
    broughtForward { balance product { id } }
    carriedForward { balance product { id } }
    edges { cursor node {
      timestamp quantity balanceAfter batchNumber movementType reason reference supplierName deliveryReference
      pharmacist { id } witness { id } product { id }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/**
 * The controlled-substance register as an inspector signs it off, through the gateway: receipts name
 * supplier and delivery reference, write-offs and destructions name a witness (a second user who
 * may see the branch), exports page through every line and open with the balance brought forward,
 * and retention purges take only lines past the tenant's period.
 */
describe('controlled-substance register', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let br1: string;
  let br2: string;
  let schema: string;
  let adminId: string;
  let pharmacist: { id: string; token: string };
  let colleague: { id: string; token: string };
  let elsewhere: { id: string; token: string };
  let strangerId: string;

  async function controlledProduct(sku: string): Promise<string> {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `Morphine ${sku}`, genericName: 'morphine', requiresPrescription: true, controlledSubstance: true } },
      { token: t.adminToken },
    );
    return r.createProduct.id;
  }

  const receive = (token: string, productId: string, batchNumber: string, quantity: number, extra: Record<string, unknown> = {}, branchId = br1) =>
    p.ok<{ receiveStock: { id: string } }>(
      op('ReceiveStock'),
      { input: { branchId, productId, batchNumber, expiryDate: inDays(365), quantity, costPrice: '5.00', sellingPrice: '10.00', ...extra } },
      { token },
    );

  async function exportAll(token: string, branchId: string, from: string, to: string, productId: string | null, first: number) {
    const pages: ExportPage['controlledRegisterExport'][] = [];
    let after: string | null = null;
    do {
      const page: ExportPage = await p.ok<ExportPage>(EXPORT, { b: branchId, from, to, p: productId, first, after }, { token });
      pages.push(page.controlledRegisterExport);
      after = page.controlledRegisterExport.pageInfo.hasNextPage ? page.controlledRegisterExport.pageInfo.endCursor : null;
    } while (after);
    return pages;
  }

  const linesOf = async (productId: string, token = pharmacist.token) =>
    (await exportAll(token, br1, TODAY, TODAY, productId, 100)).flatMap((page) => page.edges.map((e) => e.node));

  /** Moves lines of a product back in time, as if written then; the owner bypasses the append-only trigger for this transaction only. */
  async function backdate(productId: string, quantity: number, interval: string): Promise<void> {
    const c = await p.db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      await c.query(`UPDATE "${schema}".controlled_register SET occurred_at = occurred_at - $3::interval WHERE product_id = $1 AND quantity = $2`, [productId, quantity, interval]);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    } finally {
      c.release();
    }
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    t = await createTenant(p, { branchCount: 2 });
    br1 = t.branches[0]!.id;
    br2 = t.branches[1]!.id;
    schema = tenantSchemaName(t.subdomain);
    [pharmacist, colleague, elsewhere] = await Promise.all([createUser(p, t, 'PHARMACIST', [br1]), createUser(p, t, 'PHARMACIST', [br1]), createUser(p, t, 'PHARMACIST', [br2])]);
    adminId = (await p.ok<{ me: { id: string } }>(op('Me'), {}, { token: t.adminToken })).me.id;
    const other = await createTenant(p, { branchCount: 1 });
    strangerId = (await p.ok<{ me: { id: string } }>(op('Me'), {}, { token: other.adminToken })).me.id;
  }, 180_000);
  afterAll(async () => {
    await p?.close();
  });
  afterEach(async () => {
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
    expect(await registerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('names the supplier and delivery reference of receipts, and the member of staff who received them', async () => {
    const product = await controlledProduct('MOR-GRN');
    const supplier = await p.ok<{ createSupplier: { id: string } }>('mutation($i: CreateSupplierInput!) { createSupplier(input: $i) { id } }', { i: { name: 'Medico Zambia Ltd' } }, { token: t.adminToken });
    const supplierId = supplier.createSupplier.id;
    await receive(pharmacist.token, product, 'MG-1', 20, { supplierId, deliveryReference: 'DN-1001' });
    const po = await p.ok<{ createPurchaseOrder: { id: string } }>(
      'mutation($i: CreatePurchaseOrderInput!) { createPurchaseOrder(input: $i) { id } }',
      { i: { branchId: br1, supplierId, items: [{ productId: product, quantity: 30, unitCost: '4.00' }] } },
      { token: t.adminToken },
    );
    await p.ok('mutation($id: ID!) { sendPurchaseOrder(id: $id) { id } }', { id: po.createPurchaseOrder.id }, { token: t.adminToken });
    await p.ok(
      'mutation($i: ReceivePurchaseOrderInput!) { receivePurchaseOrder(input: $i) { status } }',
      { i: { purchaseOrderId: po.createPurchaseOrder.id, deliveryReference: 'INV-77', lines: [{ productId: product, batchNumber: 'MG-2', expiryDate: inDays(400), quantity: 30, sellingPrice: '10.00' }] } },
      { token: colleague.token },
    );
    expect((await linesOf(product)).map((l) => [l.movementType, l.quantity, l.balanceAfter, l.supplierName, l.deliveryReference, l.pharmacist?.id])).toEqual([
      ['GRN', 20, 20, 'Medico Zambia Ltd', 'DN-1001', pharmacist.id],
      ['GRN', 30, 50, 'Medico Zambia Ltd', 'INV-77', colleague.id],
    ]);
  });

  it('refuses to write off or destroy controlled stock without a witness who is a second user with access to the branch, and records the witness', async () => {
    const product = await controlledProduct('MOR-WIT');
    const batch = (await receive(t.adminToken, product, 'MW-1', 10)).receiveStock.id;
    const adjust = (witnessUserId: string | null, delta = -2) =>
      p.gql(op('AdjustStock'), { input: { inventoryId: batch, delta, reason: 'ampoules broken', ...(witnessUserId ? { witnessUserId } : {}) } }, { token: t.adminToken });
    expect(failure(await adjust(null))).toEqual({ code: 'BAD_USER_INPUT', reason: 'WITNESS_REQUIRED' });
    for (const who of [adminId, elsewhere.id, strangerId]) expect(failure(await adjust(who))).toEqual({ code: 'BAD_USER_INPUT', reason: 'WITNESS_INVALID' });
    expect((await adjust(null, 1)).errors).toBeUndefined();
    expect((await adjust(colleague.id)).errors).toBeUndefined();

    // Expired controlled stock is written off only with a witness.
    const expiring = (await receive(pharmacist.token, product, 'MW-OLD', 3)).receiveStock.id;
    await p.db.pool.query(`UPDATE "${schema}".inventory_batches SET expiry_date = current_date - 1 WHERE id = $1`, [expiring]);
    const writeOff = (witnessUserId?: string) =>
      p.gql<{ writeOffExpiredStock: { batchNumber: string; status: string }[] }>(
        'mutation($b: ID!, $w: ID) { writeOffExpiredStock(branchId: $b, witnessUserId: $w) { batchNumber status } }',
        { b: br1, w: witnessUserId ?? null },
        { token: pharmacist.token },
      );
    expect(failure(await writeOff())).toEqual({ code: 'BAD_USER_INPUT', reason: 'WITNESS_REQUIRED' });
    expect(failure(await writeOff(pharmacist.id))).toEqual({ code: 'BAD_USER_INPUT', reason: 'WITNESS_INVALID' });
    expect((await writeOff(colleague.id)).data?.writeOffExpiredStock).toEqual([{ batchNumber: 'MW-OLD', status: 'EXPIRED' }]);

    // A recalled lot is destroyed: its stock written off with a witness, and it never comes back.
    const recalled = (await receive(pharmacist.token, product, 'MW-RCL', 4)).receiveStock.id;
    const setStatus = (status: string, witnessUserId?: string) =>
      p.gql<{ setBatchStatus: { status: string; quantityOnHand: number } }>(
        'mutation($id: ID!, $s: BatchStatus!, $w: ID) { setBatchStatus(id: $id, status: $s, reason: "manufacturer recall R-12", witnessUserId: $w) { status quantityOnHand } }',
        { id: recalled, s: status, w: witnessUserId ?? null },
        { token: pharmacist.token },
      );
    expect((await setStatus('QUARANTINE')).data?.setBatchStatus).toEqual({ status: 'QUARANTINE', quantityOnHand: 4 });
    expect(failure(await setStatus('DESTROYED'))).toEqual({ code: 'BAD_USER_INPUT', reason: 'WITNESS_REQUIRED' });
    expect((await setStatus('DESTROYED', colleague.id)).data?.setBatchStatus).toEqual({ status: 'DESTROYED', quantityOnHand: 0 });
    expect(failure(await setStatus('AVAILABLE'))).toMatchObject({ code: 'CONFLICT' });

    expect((await linesOf(product)).map((l) => [l.movementType, l.quantity, l.balanceAfter, l.reason, l.pharmacist?.id ?? null, l.witness?.id ?? null])).toEqual([
      ['GRN', 10, 10, null, adminId, null],
      ['ADJUSTMENT', 1, 11, 'ampoules broken', adminId, null],
      ['ADJUSTMENT', -2, 9, 'ampoules broken', adminId, colleague.id],
      ['GRN', 3, 12, null, pharmacist.id, null],
      ['EXPIRY_WRITE_OFF', -3, 9, 'expired', pharmacist.id, colleague.id],
      ['GRN', 4, 13, null, pharmacist.id, null],
      ['ADJUSTMENT', -4, 9, 'destroyed: manufacturer recall R-12', pharmacist.id, colleague.id],
    ]);

    // Other stock needs no witness.
    const plain = await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku: 'PCM-WIT', name: 'Paracetamol', requiresPrescription: false, controlledSubstance: false } }, { token: t.adminToken });
    const plainBatch = (await receive(t.adminToken, plain.createProduct.id, 'PW-1', 5)).receiveStock.id;
    expect((await p.gql(op('AdjustStock'), { input: { inventoryId: plainBatch, delta: -1, reason: 'damaged box' } }, { token: t.adminToken })).errors).toBeUndefined();
  });

  it('pages through every line of a period (no cap at 10,000), opening with the balance brought forward and closing with the balance carried forward', async () => {
    const product = await controlledProduct('MOR-BULK');
    const first = (await receive(elsewhere.token, product, 'MB-1', 5, {}, br2)).receiveStock.id;
    await backdate(product, 5, '3 days');
    // 10,050 receipts of one unit, written as the ledger writes them (movement, register line in
    // order, batch total): enough lines to pass the old cap, without 10,050 requests.
    const bulk = 10_050;
    await p.db.pool.query(
      `WITH m AS (
         INSERT INTO "${schema}".stock_movements (branch_id, product_id, batch_id, type, quantity, balance_after, reference, user_id)
         SELECT $1, $2, $3, 'GRN', 1, 5 + g, 'BULK', $4 FROM generate_series(1, $5::int) g
         RETURNING id, balance_after
       )
       INSERT INTO "${schema}".controlled_register (branch_id, product_id, batch_id, movement_id, quantity, balance_after, reference, pharmacist_id)
       SELECT $1, $2, $3, m.id, 1, m.balance_after, 'BULK', $4 FROM m ORDER BY m.balance_after`,
      [br2, product, first, elsewhere.id, bulk],
    );
    await p.db.pool.query(`UPDATE "${schema}".inventory_batches SET quantity_on_hand = quantity_on_hand + $2 WHERE id = $1`, [first, bulk]);

    // The contract's list returns the whole period.
    const list = await p.ok<{ controlledSubstanceRegister: { quantity: number; balanceAfter: number; product: { sku: string }; pharmacist: { email: string } | null }[] }>(
      op('ControlledRegister'),
      { branchId: br2, from: inDays(-1), to: TODAY },
      { token: elsewhere.token },
    );
    const listed = list.controlledSubstanceRegister.filter((l) => l.product.sku === 'MOR-BULK');
    expect(listed).toHaveLength(bulk);
    expect(listed[listed.length - 1]!.balanceAfter).toBe(5 + bulk);

    // The export pages through the same lines and opens with the balance before the period.
    const pages = await exportAll(elsewhere.token, br2, inDays(-1), TODAY, product, 1000);
    expect(pages).toHaveLength(11);
    const exported = pages.flatMap((page) => page.edges.map((e) => e.node));
    expect(exported.map((l) => [l.quantity, l.balanceAfter])).toEqual(listed.map((l) => [l.quantity, l.balanceAfter]));
    expect(pages[0]!.broughtForward).toEqual([{ balance: 5, product: { id: product } }]);
    expect(pages[0]!.carriedForward).toEqual([{ balance: 5 + bulk, product: { id: product } }]);
    let balance = pages[0]!.broughtForward[0]!.balance;
    for (const l of exported) {
      expect(l.balanceAfter - l.quantity).toBe(balance);
      balance = l.balanceAfter;
    }
    // From before the first line, nothing is brought forward and the first line is in the period.
    const wider = await p.ok<ExportPage>(EXPORT, { b: br2, from: inDays(-4), to: inDays(-2), p: product, first: 10 }, { token: elsewhere.token });
    expect(wider.controlledRegisterExport).toMatchObject({
      broughtForward: [{ balance: 0 }],
      carriedForward: [{ balance: 5 }],
      edges: [{ node: { quantity: 5, balanceAfter: 5, batchNumber: 'MB-1' } }],
      pageInfo: { hasNextPage: false },
    });

    expect(failure(await p.gql(EXPORT, { b: br2, from: TODAY, to: TODAY, first: 10, after: 'not-a-cursor' }, { token: elsewhere.token }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(failure(await p.gql(EXPORT, { b: br2, from: TODAY, to: TODAY, first: 1001 }, { token: elsewhere.token }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(failure(await p.gql(EXPORT, { b: br2, from: TODAY, to: TODAY, first: 10 }, { token: pharmacist.token }))).toMatchObject({ code: 'FORBIDDEN' });
  }, 180_000);

  it("purges only lines older than the tenant's retention period, and never below five years", async () => {
    const product = await controlledProduct('MOR-KEEP');
    await receive(pharmacist.token, product, 'MK-1', 6);
    await receive(pharmacist.token, product, 'MK-1', 4);
    await receive(pharmacist.token, product, 'MK-1', 1);
    await backdate(product, 6, '7 years');
    await backdate(product, 4, '4 years 11 months');
    const remaining = async () => {
      const { rows } = await p.db.pool.query(`SELECT quantity FROM "${schema}".controlled_register WHERE product_id = $1 ORDER BY occurred_at, line_no`, [product]);
      return rows.map((r: { quantity: number }) => r.quantity);
    };
    const purge = () => purgeControlledRegister(p.db.pool, createLogger('test', 'silent'));

    const settings = (years: number) =>
      p.ok('mutation($i: TenantSettingsInput!) { updateTenantSettings(input: $i) { controlledRegisterRetentionYears } }', { i: { controlledRegisterRetentionYears: years } }, { token: t.adminToken });
    await settings(10);
    expect((await purge()).deleted).toBe(0);
    expect(await remaining()).toEqual([6, 4, 1]);
    expect(failure(await p.gql('mutation($i: TenantSettingsInput!) { updateTenantSettings(input: $i) { controlledRegisterRetentionYears } }', { i: { controlledRegisterRetentionYears: 4 } }, { token: t.adminToken }))).toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    await settings(5);
    expect((await purge()).deleted).toBe(1);
    expect(await remaining()).toEqual([4, 1]);
  });
});
