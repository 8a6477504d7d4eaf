import { randomUUID } from 'node:crypto';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation, createTenant, createUser, ledgerBreaks, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const TODAY = dateInZone('Africa/Lusaka');
const inDays = (n: number) => addDays(TODAY, n);

interface Batch {
  id: string;
  batchNumber: string;
  expiryDate: string;
  quantityOnHand: number;
}

/** The inventory contract operations, sent verbatim through the gateway, and the rules around them. */
describe('contract: inventory', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let other: TenantFixture;
  let br1: string;
  let br2: string;
  let admin: { token: string };
  let schema: string;

  const op = contractOperation;

  async function createProduct(token: string, sku: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `Product ${sku}`, requiresPrescription: false, controlledSubstance: false, ...extra } },
      { token },
    );
    return r.createProduct.id;
  }

  async function receive(token: string, input: Record<string, unknown>) {
    return p.gql<{ receiveStock: Batch & { product: { id: string; sku: string }; branch: { id: string; code: string } } }>(op('ReceiveStock'), { input }, { token });
  }

  const receipt = (branchId: string, productId: string, batchNumber: string, expiryDate: string, quantity: number, extra: Record<string, unknown> = {}) => ({
    branchId,
    productId,
    batchNumber,
    expiryDate,
    quantity,
    costPrice: '10.00',
    sellingPrice: '25.50',
    ...extra,
  });

  /** Counts of the rows a failed request must not have touched. */
  async function writtenRows(): Promise<Record<string, number>> {
    const { rows } = await p.db.pool.query(
      `SELECT (SELECT count(*) FROM "${schema}".stock_movements)::int AS movements,
              (SELECT count(*) FROM "${schema}".inventory_batches)::int AS batches,
              (SELECT coalesce(sum(quantity_on_hand), 0) FROM "${schema}".inventory_batches)::int AS units,
              (SELECT count(*) FROM "${schema}".stock_transfers)::int AS transfers,
              (SELECT count(*) FROM "${schema}".products)::int AS products`,
    );
    return rows[0];
  }

  async function inventoryQueries(): Promise<number> {
    const text = await (await fetch(p.metricsUrl('inventory'))).text();
    const line = text.split('\n').find((l) => l.startsWith('database_queries_total'));
    return Number(line?.split(' ').pop());
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    [t, other] = await Promise.all([createTenant(p, { branchCount: 2 }), createTenant(p, { branchCount: 1 })]);
    br1 = t.branches[0]!.id;
    br2 = t.branches[1]!.id;
    admin = { token: t.adminToken };
    schema = tenantSchemaName(t.subdomain);
  });
  afterAll(async () => {
    await p?.close();
  });

  afterEach(async () => {
    // The ledger invariant after every test: each batch's quantity on hand is the sum of its movements.
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('runs CreateProduct, ReceiveStock, Products, ProductByBarcode, AdjustStock, TransferStock, BranchStock, ExpiringStock, StockMovements', async () => {
    const created = await p.ok<{ createProduct: Record<string, unknown> }>(
      op('CreateProduct'),
      {
        input: {
          sku: 'amx-500',
          name: 'Amoxicillin 500mg capsules',
          genericName: 'Amoxicillin',
          form: 'capsule',
          strength: '500mg',
          barcode: '6001234567890',
          requiresPrescription: true,
          controlledSubstance: false,
          taxCategory: 'ZERO_RATED',
        },
      },
      admin,
    );
    expect(created.createProduct).toMatchObject({ sku: 'AMX-500', name: 'Amoxicillin 500mg capsules', requiresPrescription: true, controlledSubstance: false });
    const amx = created.createProduct.id as string;

    const late = await receive(admin.token, receipt(br1, amx, 'AMX-L2', inDays(400), 30, { reorderLevel: 25 }));
    expect(late.errors).toBeUndefined();
    expect(late.data!.receiveStock).toMatchObject({ batchNumber: 'AMX-L2', expiryDate: inDays(400), quantityOnHand: 30, product: { id: amx, sku: 'AMX-500' }, branch: { id: br1, code: 'BR01' } });
    const soon = (await receive(admin.token, receipt(br1, amx, 'AMX-L1', inDays(20), 12))).data!.receiveStock;

    const products = await p.ok<{ products: { edges: { node: Record<string, unknown> }[]; pageInfo: { hasNextPage: boolean } } }>(
      op('Products'),
      { search: 'amox', first: 10, branchId: br1 },
      admin,
    );
    expect(products.products.edges.map((e) => e.node)).toEqual([
      { id: amx, sku: 'AMX-500', name: 'Amoxicillin 500mg capsules', genericName: 'amoxicillin', form: 'capsule', strength: '500mg', stock: { quantityOnHand: 42, quantityAvailable: 42 } },
    ]);
    const bySku = await p.ok<{ products: { edges: unknown[] } }>(op('Products'), { search: 'AmX-5', first: 10, branchId: br1 }, admin);
    expect(bySku.products.edges).toHaveLength(1);

    // Price: the batch sold next (first expiry) until the branch sets its own.
    const scan = await p.ok<{ productByBarcode: Record<string, unknown> }>(op('ProductByBarcode'), { barcode: '6001234567890', branchId: br1 }, admin);
    expect(scan.productByBarcode).toEqual({ id: amx, sku: 'AMX-500', name: 'Amoxicillin 500mg capsules', sellingPrice: '25.50', stock: { quantityAvailable: 42 } });
    expect((await p.ok<{ productByBarcode: unknown }>(op('ProductByBarcode'), { barcode: '0000', branchId: br1 }, admin)).productByBarcode).toBeNull();

    const adjusted = await p.ok<{ adjustStock: { id: string; quantityOnHand: number } }>(
      op('AdjustStock'),
      { input: { inventoryId: late.data!.receiveStock.id, delta: -2, reason: 'damaged in delivery' } },
      admin,
    );
    expect(adjusted.adjustStock).toEqual({ id: late.data!.receiveStock.id, quantityOnHand: 28 });

    // 15 units FEFO: all 12 of the soon batch, then 3 of the late one; received as the same batches.
    const moved = await p.ok<{ transferStock: Record<string, unknown> }>(
      op('TransferStock'),
      { input: { fromBranchId: br1, toBranchId: br2, productId: amx, quantity: 15 } },
      admin,
    );
    expect(moved.transferStock).toMatchObject({ quantity: 15, fromBranch: { id: br1, code: 'BR01' }, toBranch: { id: br2, code: 'BR02' }, product: { id: amx, sku: 'AMX-500' } });

    const stock1 = await p.ok<{ branch: { code: string; stock: Record<string, unknown>[] } }>(op('BranchStock'), { branchId: br1 }, admin);
    expect(stock1.branch.code).toBe('BR01');
    expect(stock1.branch.stock).toEqual([
      { product: { id: amx, sku: 'AMX-500', name: 'Amoxicillin 500mg capsules' }, quantityOnHand: 25, quantityAvailable: 25, reorderLevel: 25, lowStock: true },
    ]);
    const stock2 = await p.ok<{ branch: { stock: Record<string, unknown>[] } }>(op('BranchStock'), { branchId: br2 }, admin);
    expect(stock2.branch.stock).toEqual([expect.objectContaining({ quantityOnHand: 15, quantityAvailable: 15, reorderLevel: 0, lowStock: false })]);

    const expiring = await p.ok<{ expiringBatches: Batch[] }>(op('ExpiringStock'), { branchId: br2, withinDays: 30 }, admin);
    expect(expiring.expiringBatches).toEqual([expect.objectContaining({ batchNumber: 'AMX-L1', expiryDate: inDays(20), quantityOnHand: 12, product: { id: amx, sku: 'AMX-500', name: 'Amoxicillin 500mg capsules' } })]);
    expect((await p.ok<{ expiringBatches: Batch[] }>(op('ExpiringStock'), { branchId: br1, withinDays: 30 }, admin)).expiringBatches).toEqual([]);
    expect(soon.batchNumber).toBe('AMX-L1');

    // Newest first, two per page: TRANSFER_OUT x2, ADJUSTMENT, GRN x2.
    const page1 = await p.ok<{ stockMovements: { edges: { node: Record<string, unknown> }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(
      op('StockMovements'),
      { branchId: br1, productId: amx, first: 3 },
      admin,
    );
    // The two TRANSFER_OUT rows share their transaction's timestamp, so their order is the ids'.
    const [m1, m2, m3] = page1.stockMovements.edges.map((e) => e.node);
    expect([m1!.type, m2!.type, m3!.type]).toEqual(['TRANSFER_OUT', 'TRANSFER_OUT', 'ADJUSTMENT']);
    expect([m1!.quantity, m2!.quantity].sort()).toEqual([-12, -3]);
    expect(page1.stockMovements.edges[2]!.node).toMatchObject({ reason: 'damaged in delivery', product: { sku: 'AMX-500' }, user: { email: t.adminEmail } });
    expect(page1.stockMovements.pageInfo.hasNextPage).toBe(true);
    const page2 = await p.ok<{ stockMovements: { edges: { node: Record<string, unknown> }[]; pageInfo: { hasNextPage: boolean } } }>(
      op('StockMovements'),
      { branchId: br1, productId: amx, first: 3, after: page1.stockMovements.pageInfo.endCursor },
      admin,
    );
    expect(page2.stockMovements.edges.map((e) => e.node.type)).toEqual(['GRN', 'GRN']);
    expect(page2.stockMovements.pageInfo.hasNextPage).toBe(false);
    const incoming = await p.ok<{ stockMovements: { edges: { node: { type: string; reference: string } }[] } }>(op('StockMovements'), { branchId: br2, first: 10 }, admin);
    expect(incoming.stockMovements.edges.map((e) => e.node.type)).toEqual(['TRANSFER_IN', 'TRANSFER_IN']);
    expect(incoming.stockMovements.edges[0]!.node.reference).toMatch(/^TRF-\d{6}$/);
  });

  it('records one inventory.low_stock event per crossing of the reorder level, in the tenant’s outbox', async () => {
    const id = await createProduct(admin.token, 'LOW-1');
    const batch = (await receive(admin.token, receipt(br1, id, 'LOW-B', inDays(300), 10, { reorderLevel: 4 }))).data!.receiveStock;
    for (const delta of [-5, -1, -1, -1]) {
      await p.ok(op('AdjustStock'), { input: { inventoryId: batch.id, delta, reason: 'count correction' } }, admin); // 5, 4 (crossed), 3, 2
    }
    const { rows } = await p.db.pool.query(`SELECT payload FROM "${schema}".outbox WHERE event_type = 'inventory.low_stock' AND aggregate_id = $1`, [id]);
    expect(rows).toEqual([
      { payload: expect.objectContaining({ data: { productId: id, branchId: br1, quantityAvailable: 4, reorderLevel: 4 }, metadata: expect.objectContaining({ tenantId: t.id, branchId: br1 }) }) },
    ]);
  });

  it('applies the branch rules: cashiers read their branch, pharmacists receive at theirs, managers adjust and transfer', async () => {
    const id = await createProduct(admin.token, 'RULES-1', { barcode: '5000000000001' });
    const b1 = (await receive(admin.token, receipt(br1, id, 'R-1', inDays(100), 20))).data!.receiveStock;
    await receive(admin.token, receipt(br2, id, 'R-2', inDays(100), 20));
    const cashier = await createUser(p, t, 'CASHIER', [br1]);
    const pharmacist = await createUser(p, t, 'PHARMACIST', [br1]);
    const mover = await createUser(p, t, 'PHARMACIST', [br1], { canTransferStock: true });
    const ops = await createUser(p, t, 'OPERATIONS', []);
    const code = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;

    // Cashier: reads products and stock of BR01; anything of BR02, directly or nested, is FORBIDDEN.
    expect((await p.gql(op('ProductByBarcode'), { barcode: '5000000000001', branchId: br1 }, { token: cashier.token })).errors).toBeUndefined();
    expect((await p.gql(op('BranchStock'), { branchId: br1 }, { token: cashier.token })).errors).toBeUndefined();
    expect(code(await p.gql(op('BranchStock'), { branchId: br2 }, { token: cashier.token }))).toBe('FORBIDDEN');
    const nested = await p.gql<{ productByBarcode: { stock: unknown } | null }>(op('ProductByBarcode'), { barcode: '5000000000001', branchId: br2 }, { token: cashier.token });
    expect(code(nested)).toBe('FORBIDDEN');
    expect(nested.errors![0]!.path).toEqual(expect.arrayContaining(['productByBarcode']));
    expect(code(await p.gql(op('Products'), { first: 5, branchId: br2 }, { token: cashier.token }))).toBe('FORBIDDEN');
    expect(code(await receive(cashier.token, receipt(br1, id, 'C-1', inDays(100), 1)))).toBe('FORBIDDEN');
    expect(code(await p.gql(op('StockMovements'), { branchId: br1, first: 5 }, { token: cashier.token }))).toBe('FORBIDDEN');
    const cost = await p.gql('query($id: ID!, $b: ID!) { product(id: $id) { batches(branchId: $b) { batchNumber costPrice } } }', { id, b: br1 }, { token: cashier.token });
    expect(code(cost)).toBe('FORBIDDEN');
    expect(cost.errors![0]!.path).toEqual(['product', 'batches', 0, 'costPrice']);

    // Pharmacist: receives at BR01 only; cannot correct quantities or transfer without canTransferStock.
    expect((await receive(pharmacist.token, receipt(br1, id, 'P-1', inDays(100), 5))).errors).toBeUndefined();
    expect(code(await receive(pharmacist.token, receipt(br2, id, 'P-2', inDays(100), 5)))).toBe('FORBIDDEN');
    expect(code(await p.gql(op('AdjustStock'), { input: { inventoryId: b1.id, delta: -1, reason: 'damaged' } }, { token: pharmacist.token }))).toBe('FORBIDDEN');
    const transfer = { fromBranchId: br1, toBranchId: br2, productId: id, quantity: 2 };
    expect(code(await p.gql(op('TransferStock'), { input: transfer }, { token: pharmacist.token }))).toBe('FORBIDDEN');
    expect((await p.gql(op('TransferStock'), { input: transfer }, { token: mover.token })).errors).toBeUndefined();
    expect(code(await p.gql(op('TransferStock'), { input: { ...transfer, fromBranchId: br2, toBranchId: br1 } }, { token: mover.token }))).toBe('FORBIDDEN');

    // Operations manages every branch.
    expect((await p.gql(op('AdjustStock'), { input: { inventoryId: b1.id, delta: 1, reason: 'count correction' } }, { token: ops.token })).errors).toBeUndefined();
    expect((await p.gql(op('TransferStock'), { input: { ...transfer, fromBranchId: br2, toBranchId: br1 } }, { token: ops.token })).errors).toBeUndefined();
    expect(code(await p.gql(op('CreateProduct'), { input: { sku: 'NOPE', name: 'x', requiresPrescription: false, controlledSubstance: false } }, { token: pharmacist.token }))).toBe('FORBIDDEN');
  });

  it('refuses bad input with clear errors and writes nothing', async () => {
    const id = await createProduct(admin.token, 'BAD-1');
    const batch = (await receive(admin.token, receipt(br1, id, 'BAD-B', inDays(100), 5))).data!.receiveStock;
    const foreignProduct = await createProduct(other.adminToken, 'FOREIGN-1');
    const before = await writtenRows();
    const expectError = async (r: Promise<{ errors?: { message: string; extensions?: Record<string, unknown> }[] }>, code: string, message?: RegExp) => {
      const res = await r;
      expect(res.errors?.[0]?.extensions?.code).toBe(code);
      if (message) expect(res.errors![0]!.message).toMatch(message);
    };

    await expectError(receive(admin.token, receipt(br1, id, 'N-1', inDays(100), -3)), 'BAD_USER_INPUT', /quantity/);
    await expectError(receive(admin.token, receipt(br1, id, 'N-2', inDays(100), 0)), 'BAD_USER_INPUT', /quantity/);
    await expectError(receive(admin.token, receipt(br1, id, 'N-3', inDays(-1), 3)), 'BAD_USER_INPUT', /expired/);
    await expectError(receive(admin.token, receipt(br1, id, 'N-4', TODAY, 3)), 'BAD_USER_INPUT', /expired/);
    await expectError(receive(admin.token, receipt(br1, id, 'N-5', '2027-02-30', 3)), 'BAD_USER_INPUT', /date/i);
    await expectError(receive(admin.token, receipt(br1, id, 'N-6', inDays(100), 3, { costPrice: '1.005' })), 'BAD_USER_INPUT', /costPrice/);
    await expectError(receive(admin.token, receipt(br1, id, 'N-7', inDays(100), 3, { sellingPrice: 12.5 })), 'BAD_USER_INPUT');
    await expectError(receive(admin.token, receipt(br1, randomUUID(), 'N-8', inDays(100), 3)), 'NOT_FOUND', /Product/);
    await expectError(receive(admin.token, receipt(br1, foreignProduct, 'N-9', inDays(100), 3)), 'NOT_FOUND', /Product/);
    await expectError(receive(admin.token, receipt(other.branches[0]!.id, id, 'N-10', inDays(100), 3)), 'NOT_FOUND', /Branch/);
    await expectError(receive(admin.token, receipt('not-an-id', id, 'N-11', inDays(100), 3)), 'BAD_USER_INPUT', /branchId/);
    await expectError(receive(admin.token, receipt(br1, id, 'BAD-B', inDays(200), 3)), 'CONFLICT', /expiry/);

    const adjust = (input: Record<string, unknown>) => p.gql(op('AdjustStock'), { input: { inventoryId: batch.id, delta: -1, reason: 'damaged', ...input } }, admin);
    await expectError(adjust({ delta: -6 }), 'BAD_USER_INPUT', /below zero/);
    await expectError(adjust({ delta: 0 }), 'BAD_USER_INPUT', /delta/);
    await expectError(adjust({ reason: '  ' }), 'BAD_USER_INPUT', /reason/);
    await expectError(adjust({ inventoryId: randomUUID() }), 'NOT_FOUND');

    const transfer = (input: Record<string, unknown>) => p.gql(op('TransferStock'), { input: { fromBranchId: br1, toBranchId: br2, productId: id, quantity: 1, ...input } }, admin);
    await expectError(transfer({ toBranchId: br1 }), 'BAD_USER_INPUT', /toBranchId/);
    await expectError(transfer({ quantity: -1 }), 'BAD_USER_INPUT', /quantity/);
    await expectError(transfer({ quantity: 6 }), 'CONFLICT', /Insufficient stock: 6 requested, 5 available/);
    await expectError(transfer({ toBranchId: other.branches[0]!.id }), 'NOT_FOUND', /Branch/);
    await expectError(transfer({ productId: foreignProduct }), 'NOT_FOUND', /Product/);

    await expectError(p.gql(op('CreateProduct'), { input: { sku: 'bad-1', name: 'Again', requiresPrescription: false, controlledSubstance: false } }, admin), 'CONFLICT');
    await expectError(p.gql(op('CreateProduct'), { input: { sku: ' ', name: 'Blank', requiresPrescription: false, controlledSubstance: false } }, admin), 'BAD_USER_INPUT', /sku/);
    await expectError(p.gql(op('ExpiringStock'), { branchId: br1, withinDays: -1 }, admin), 'BAD_USER_INPUT', /withinDays/);
    await expectError(p.gql(op('StockMovements'), { branchId: br1, first: 1000 }, admin), 'BAD_USER_INPUT', /first/);
    await expectError(p.gql(op('StockMovements'), { branchId: br1, first: 5, after: 'garbage' }, admin), 'BAD_USER_INPUT', /cursor/);
    // Another tenant's admin sees none of this tenant's stock.
    await expectError(p.gql(op('StockMovements'), { branchId: br1, first: 5 }, { token: other.adminToken }), 'NOT_FOUND');
    expect((await p.gql<{ product: unknown }>('query($id: ID!) { product(id: $id) { id } }', { id }, { token: other.adminToken })).data?.product).toBeNull();

    expect(await writtenRows()).toEqual(before);
  });

  it('receives a purchase order in parts: PARTIALLY_RECEIVED, then RECEIVED, with GRNs referencing it', async () => {
    const a = await createProduct(admin.token, 'PO-A');
    const b = await createProduct(admin.token, 'PO-B');
    const supplier = await p.ok<{ createSupplier: { id: string } }>('mutation($i: CreateSupplierInput!) { createSupplier(input: $i) { id } }', { i: { name: 'Medico Zambia Ltd', tpin: '1002003004' } }, admin);
    const po = await p.ok<{ createPurchaseOrder: { id: string; poNumber: string; status: string; totalCost: string } }>(
      'mutation($i: CreatePurchaseOrderInput!) { createPurchaseOrder(input: $i) { id poNumber status totalCost } }',
      { i: { branchId: br1, supplierId: supplier.createSupplier.id, items: [{ productId: a, quantity: 10, unitCost: '4.25' }, { productId: b, quantity: 5, unitCost: '10.00' }] } },
      admin,
    );
    expect(po.createPurchaseOrder).toMatchObject({ poNumber: 'PO-BR01-000001', status: 'DRAFT', totalCost: '92.50' });
    const receivePo = (lines: Record<string, unknown>[]) =>
      p.gql<{ receivePurchaseOrder: { status: string; items: { quantityReceived: number }[] } }>(
        'mutation($i: ReceivePurchaseOrderInput!) { receivePurchaseOrder(input: $i) { status items { quantityReceived } } }',
        { i: { purchaseOrderId: po.createPurchaseOrder.id, lines } },
        admin,
      );
    const line = (productId: string, quantity: number, batchNumber: string) => ({ productId, quantity, batchNumber, expiryDate: inDays(365), sellingPrice: '9.99' });
    expect((await receivePo([line(a, 4, 'PO-A-1')])).errors?.[0]?.extensions?.code).toBe('CONFLICT'); // still a draft
    await p.ok('mutation($id: ID!) { sendPurchaseOrder(id: $id) { status } }', { id: po.createPurchaseOrder.id }, admin);
    const part = await receivePo([line(a, 4, 'PO-A-1')]);
    expect(part.data?.receivePurchaseOrder).toEqual({ status: 'PARTIALLY_RECEIVED', items: [{ quantityReceived: 4 }, { quantityReceived: 0 }] });
    const rest = await receivePo([line(a, 6, 'PO-A-2'), line(b, 5, 'PO-B-1')]);
    expect(rest.data?.receivePurchaseOrder.status).toBe('RECEIVED');
    const grn = await p.ok<{ stockMovements: { edges: { node: { type: string; reference: string } }[] } }>(op('StockMovements'), { branchId: br1, productId: a, first: 10 }, admin);
    expect(grn.stockMovements.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({ type: 'GRN', reference: 'PO-BR01-000001' }),
      expect.objectContaining({ type: 'GRN', reference: 'PO-BR01-000001' }),
    ]);
    expect((await receivePo([line(a, 1, 'PO-A-3')])).errors?.[0]?.extensions?.code).toBe('CONFLICT'); // already received
  });

  it('manages the catalogue and batches: update, deactivate, branch price, hold, expiry write-off', async () => {
    const id = await createProduct(admin.token, 'CAT-1', { barcode: '7000000000001' });
    const updated = await p.ok<{ updateProduct: { name: string; genericName: string; taxCategory: string } }>(
      'mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { name genericName taxCategory } }',
      { id, i: { name: 'Cetirizine 10mg', genericName: 'Cetirizine', taxCategory: 'ZERO_RATED' } },
      admin,
    );
    expect(updated.updateProduct).toEqual({ name: 'Cetirizine 10mg', genericName: 'cetirizine', taxCategory: 'ZERO_RATED' });
    const batch = (await receive(admin.token, receipt(br1, id, 'CAT-B', inDays(100), 10))).data!.receiveStock;
    await receive(admin.token, receipt(br1, id, 'CAT-OLD', inDays(5), 4));

    // The branch's own price wins over the batch price.
    const price = () => p.ok<{ productByBarcode: { sellingPrice: string; stock: { quantityAvailable: number } } }>(op('ProductByBarcode'), { barcode: '7000000000001', branchId: br1 }, admin);
    expect((await price()).productByBarcode.sellingPrice).toBe('25.50');
    await p.ok('mutation($i: BranchProductSettingsInput!) { setBranchProductSettings(input: $i) { reorderLevel } }', { i: { branchId: br1, productId: id, sellingPrice: '19.99', reorderLevel: 2 } }, admin);
    expect((await price()).productByBarcode).toMatchObject({ sellingPrice: '19.99', stock: { quantityAvailable: 14 } });

    // A held batch is never available; releasing it makes it so again.
    const hold = 'mutation($id: ID!, $s: BatchStatus!) { setBatchStatus(id: $id, status: $s, reason: "supplier recall notice 12") { status quantityAvailable } }';
    expect((await p.ok<{ setBatchStatus: unknown }>(hold, { id: batch.id, s: 'ON_HOLD' }, admin)).setBatchStatus).toEqual({ status: 'ON_HOLD', quantityAvailable: 0 });
    expect((await price()).productByBarcode.stock.quantityAvailable).toBe(4);
    await p.ok(hold, { id: batch.id, s: 'AVAILABLE' }, admin);

    // A batch past its date is written off to zero with a ledger row.
    await p.db.pool.query(`UPDATE "${schema}".inventory_batches SET expiry_date = current_date - 1 WHERE batch_number = 'CAT-OLD' AND product_id = $1`, [id]);
    const writeOff = await p.ok<{ writeOffExpiredStock: { batchNumber: string; quantityOnHand: number; status: string }[] }>(
      'mutation($b: ID!) { writeOffExpiredStock(branchId: $b) { batchNumber quantityOnHand status } }',
      { b: br1 },
      admin,
    );
    expect(writeOff.writeOffExpiredStock).toEqual([{ batchNumber: 'CAT-OLD', quantityOnHand: 0, status: 'EXPIRED' }]);
    const { rows } = await p.db.pool.query(`SELECT quantity FROM "${schema}".stock_movements WHERE product_id = $1 AND type = 'EXPIRY_WRITE_OFF'`, [id]);
    expect(rows).toEqual([{ quantity: -4 }]);

    // Deactivated: out of the catalogue and not received any more; history still resolves it.
    await p.ok('mutation($id: ID!) { deactivateProduct(id: $id) { isActive } }', { id }, admin);
    const listed = await p.ok<{ products: { edges: unknown[] } }>(op('Products'), { search: 'Cetirizine', first: 5, branchId: br1 }, admin);
    expect(listed.products.edges).toEqual([]);
    expect((await receive(admin.token, receipt(br1, id, 'CAT-C', inDays(100), 1))).errors?.[0]?.message).toMatch(/inactive/);
  });

  it('costs a constant number of SQL statements for Products with stock, whatever the page size', async () => {
    const token = other.adminToken;
    const branchId = other.branches[0]!.id;
    for (let i = 0; i < 100; i++) {
      const id = await createProduct(token, `N1-${String(i).padStart(3, '0')}`);
      if (i % 2 === 0) await receive(token, receipt(branchId, id, `N1-B${i}`, inDays(50 + i), 3));
    }
    const run = async (first: number) => {
      const before = await inventoryQueries();
      const r = await p.ok<{ products: { edges: { node: { stock: { quantityOnHand: number } } }[] } }>(op('Products'), { search: 'N1-', first, branchId }, { token });
      const cost = (await inventoryQueries()) - before;
      return { rows: r.products.edges.length, units: r.products.edges.reduce((n, e) => n + e.node.stock.quantityOnHand, 0), cost };
    };
    await run(5); // warm the directories
    const small = await run(10);
    const large = await run(100);
    expect(large.rows).toBe(100);
    expect(large.units).toBe(150);
    expect(large.cost).toBe(small.cost);
    expect(large.cost).toBeLessThanOrEqual(2);
  });
});
