import { randomUUID } from 'node:crypto';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import {
  contractOperation,
  createTenant,
  createUser,
  ledgerBreaks,
  openTillSession,
  registerBreaks,
  startTestPlatform,
  type TenantFixture,
  type TestPlatform,
} from '@umi/testkit';

const op = contractOperation;
const TODAY = dateInZone('Africa/Lusaka');
const inDays = (n: number) => addDays(TODAY, n);
type Gql = { errors?: { message: string; extensions?: Record<string, unknown> }[] };
const failure = (r: Gql) => r.errors?.[0]?.extensions ?? {};

interface SupplySale {
  id: string;
  saleNumber: string;
  paymentStatus: string;
  tillSessionId: string | null;
  taxAmount: string;
  totalAmount: string;
  items: { quantity: number; taxAmount: string; batchNumber: string }[];
  payments: { method: string; amount: string; status: string }[];
}
const SALE_FIELDS = 'id saleNumber paymentStatus tillSessionId taxAmount totalAmount items { quantity taxAmount batchNumber } payments { method amount status }';

/**
 * Issue 11, "One prescription, one supply" and "Controlled drugs", through the gateway: every
 * supply (till sale or dispensing) consumes the prescription, dispensing is a priced sale booked
 * to a till session, verification is explicit, a named patient is checked at the till, controlled
 * substances are prescription-only with their own validity, every sale belongs to a till session,
 * and VAT is per line.
 */
describe('one prescription, one supply', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let br1: string;
  let schema: string;
  let pharmacist: { id: string; token: string };
  let cashier: { id: string; token: string };
  let pharmacistSession: string;
  let cashierSession: string;
  const product = { amoxicillin: '', simvastatin: '', clarithromycin: '', morphine: '', dime: '' };

  async function createProduct(sku: string, genericName: string, extra: Record<string, unknown> = {}) {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `${genericName} ${sku}`, genericName, requiresPrescription: true, controlledSubstance: false, taxCategory: 'STANDARD', ...extra } },
      { token: t.adminToken },
    );
    return r.createProduct.id;
  }
  const receive = (productId: string, batchNumber: string, quantity: number, sellingPrice = '10.00', expiryDays = 365) =>
    p.ok(op('ReceiveStock'), { input: { branchId: br1, productId, batchNumber, expiryDate: inDays(expiryDays), quantity, costPrice: '0.05', sellingPrice } }, { token: t.adminToken });

  async function patient(): Promise<string> {
    const r = await p.ok<{ createPatient: { id: string } }>(op('CreatePatient'), { input: { firstName: 'Mutale', lastName: `Phiri${randomUUID().slice(0, 4)}` } }, { token: pharmacist.token });
    return r.createPatient.id;
  }
  const prescribe = (patientId: string, items: { productId: string; quantity: number }[], extra: Record<string, unknown> = {}) =>
    p.gql<{ createPrescription: { id: string; prescriptionNumber: string; validUntil: string } }>(
      'mutation($input: CreatePrescriptionInput!) { createPrescription(input: $input) { id prescriptionNumber validUntil } }',
      { input: { branchId: br1, patientId, prescriberName: 'Dr Banda', prescriberLicense: 'HPCZ-1', datePrescribed: TODAY, items: items.map((i) => ({ ...i, dosage: 'as directed' })), ...extra } },
      { token: pharmacist.token },
    );
  async function verifiedRx(patientId: string, items: { productId: string; quantity: number }[]): Promise<string> {
    const rx = (await prescribe(patientId, items)).data!.createPrescription.id;
    await p.ok(op('VerifyPrescription'), { id: rx }, { token: pharmacist.token });
    return rx;
  }
  const sell = (token: string, items: { productId: string; quantity: number }[], extra: Record<string, unknown> = {}) =>
    p.gql<{ createSale: SupplySale }>(
      `mutation($input: CreateSaleInput!) { createSale(input: $input) { ${SALE_FIELDS} } }`,
      { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items, ...extra } },
      { token },
    );
  const dispense = (id: string, token = pharmacist.token) =>
    p.gql<{ dispensePrescription: { id: string; status: string; items: { quantity: number; quantityDispensed: number }[]; sales: SupplySale[] } }>(
      `mutation($id: ID!) { dispensePrescription(id: $id) { id status items { quantity quantityDispensed } sales { ${SALE_FIELDS} } } }`,
      { id },
      { token },
    );
  async function unitsOut(productId: string): Promise<number> {
    const { rows } = await p.db.pool.query(`SELECT coalesce(-sum(quantity), 0)::int AS n FROM "${schema}".stock_movements WHERE product_id = $1 AND type IN ('SALE', 'DISPENSE')`, [productId]);
    return rows[0].n;
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    t = await createTenant(p, { branchCount: 1 });
    br1 = t.branches[0]!.id;
    schema = tenantSchemaName(t.subdomain);
    [pharmacist, cashier] = await Promise.all([createUser(p, t, 'PHARMACIST', [br1]), createUser(p, t, 'CASHIER', [br1])]);
    [{ sessionId: pharmacistSession }, { sessionId: cashierSession }] = await Promise.all([
      openTillSession(p, t, pharmacist.token, br1),
      openTillSession(p, t, cashier.token, br1),
    ]);
    product.amoxicillin = await createProduct('AMX-500', 'amoxicillin');
    product.simvastatin = await createProduct('SIM-20', 'simvastatin', { requiresPrescription: false });
    product.clarithromycin = await createProduct('CLA-500', 'clarithromycin');
    product.morphine = await createProduct('MOR-10', 'morphine', { controlledSubstance: true });
    product.dime = await createProduct('DIME-1', 'zinc', { requiresPrescription: false });
    await receive(product.amoxicillin, 'AMX-1', 200);
    await receive(product.simvastatin, 'SIM-1', 100);
    await receive(product.clarithromycin, 'CLA-1', 100);
    await receive(product.morphine, 'MOR-1', 100);
  });
  afterAll(async () => {
    await p?.close();
  });
  afterEach(async () => {
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
    expect(await registerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('supplies a prescription for 2 amoxicillin at most 2 units, across till sales and dispensing', async () => {
    const before = await unitsOut(product.amoxicillin);
    const who = await patient();
    const rx = await verifiedRx(who, [{ productId: product.amoxicillin, quantity: 2 }]);
    const against = { patientId: who, prescriptionIds: [rx] };
    expect((await sell(cashier.token, [{ productId: product.amoxicillin, quantity: 2 }], against)).errors).toBeUndefined();
    // The sequence: three more sales of 2 and a dispense, all refused.
    for (let i = 0; i < 3; i++) {
      expect(failure(await sell(cashier.token, [{ productId: product.amoxicillin, quantity: 2 }], against))).toMatchObject({
        code: 'CONFLICT',
        reason: 'PRESCRIPTION_EXHAUSTED',
        remaining: 0,
      });
    }
    expect(failure(await dispense(rx))).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_DISPENSED' });
    expect(await unitsOut(product.amoxicillin)).toBe(before + 2);

    // Partial fills: 10 prescribed, 3 at the till, then a dispense takes exactly the 7 left.
    const big = await verifiedRx(who, [{ productId: product.amoxicillin, quantity: 10 }]);
    await sell(cashier.token, [{ productId: product.amoxicillin, quantity: 3 }], { patientId: who, prescriptionIds: [big] });
    expect(failure(await sell(cashier.token, [{ productId: product.amoxicillin, quantity: 8 }], { patientId: who, prescriptionIds: [big] }))).toMatchObject({
      reason: 'PRESCRIPTION_EXHAUSTED',
      remaining: 7,
    });
    const filled = await dispense(big);
    expect(filled.errors).toBeUndefined();
    expect(filled.data!.dispensePrescription).toMatchObject({ status: 'DISPENSED', items: [{ quantity: 10, quantityDispensed: 10 }] });
    expect(failure(await sell(cashier.token, [{ productId: product.amoxicillin, quantity: 1 }], { patientId: who, prescriptionIds: [big] }))).toMatchObject({
      reason: 'PRESCRIPTION_EXHAUSTED',
    });
    expect(await unitsOut(product.amoxicillin)).toBe(before + 2 + 10);

    // Concurrent supplies of one prescription: exactly what it holds leaves, never more.
    const race = await verifiedRx(who, [{ productId: product.amoxicillin, quantity: 4 }]);
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => sell(cashier.token, [{ productId: product.amoxicillin, quantity: 1 }], { patientId: who, prescriptionIds: [race] })),
      dispense(race),
    ]);
    expect(results.filter((r) => !r.errors).length).toBeGreaterThan(0);
    expect(await unitsOut(product.amoxicillin)).toBe(before + 2 + 10 + 4);
  });

  it('makes a dispensing ONE priced sale with VAT, booked to the pharmacist\'s session, unpaid until paid at the till', async () => {
    const who = await patient();
    const rx = await verifiedRx(who, [{ productId: product.clarithromycin, quantity: 3 }]);
    const before = await unitsOut(product.clarithromycin);
    const r = await dispense(rx);
    expect(r.errors).toBeUndefined();
    const [sale, ...more] = r.data!.dispensePrescription.sales;
    expect(more).toEqual([]);
    // 3 x 10.00 VAT-inclusive at 16%: 30.00 holds 4.14.
    expect(sale).toMatchObject({ totalAmount: '30.00', taxAmount: '4.14', paymentStatus: 'PENDING', tillSessionId: pharmacistSession, payments: [] });
    expect(sale!.items.reduce((n, i) => n + i.quantity, 0)).toBe(3);
    expect(await unitsOut(product.clarithromycin)).toBe(before + 3);

    const pay = (input: Record<string, unknown>, token = cashier.token) =>
      p.gql<{ paySale: SupplySale }>(`mutation($input: PaySaleInput!) { paySale(input: $input) { ${SALE_FIELDS} } }`, { input }, { token });
    const paid = await pay({ saleId: sale!.id, paymentMethod: 'CASH', tendered: '50.00' });
    expect(paid.errors).toBeUndefined();
    expect(paid.data!.paySale).toMatchObject({ paymentStatus: 'PAID', payments: [{ method: 'CASH', amount: '30.00', status: 'COMPLETED' }] });
    expect(failure(await pay({ saleId: sale!.id, paymentMethod: 'CARD' }))).toMatchObject({ code: 'CONFLICT', reason: 'SALE_ALREADY_PAID' });
    // Stock left once, the money is booked to the sale's session, and nothing there is PENDING.
    expect(await unitsOut(product.clarithromycin)).toBe(before + 3);
    const { rows } = await p.db.pool.query(`SELECT till_session_id::text, status FROM "${schema}".payments WHERE sale_id = $1`, [sale!.id]);
    expect(rows).toEqual([{ till_session_id: pharmacistSession, status: 'COMPLETED' }]);
    const { rows: fills } = await p.db.pool.query(
      `SELECT d.sale_id::text FROM "${schema}".dispensed_items d JOIN "${schema}".prescription_items i ON i.id = d.prescription_item_id WHERE i.prescription_id = $1`,
      [rx],
    );
    expect(fills).toEqual([{ sale_id: sale!.id }]);
  });

  it('dispenses only what a pharmacist verified, and verification records who and when', async () => {
    const who = await patient();
    const rx = (await prescribe(who, [{ productId: product.amoxicillin, quantity: 1 }])).data!.createPrescription.id;
    expect(failure(await dispense(rx))).toMatchObject({ code: 'CONFLICT', reason: 'PRESCRIPTION_NOT_VERIFIED' });
    expect(failure(await sell(cashier.token, [{ productId: product.amoxicillin, quantity: 1 }], { patientId: who, prescriptionIds: [rx] }))).toMatchObject({
      code: 'CONFLICT',
      reason: 'PRESCRIPTION_NOT_VERIFIED',
    });
    expect(failure(await p.gql(op('VerifyPrescription'), { id: rx }, { token: cashier.token })).code).toBe('FORBIDDEN');
    const verified = await p.ok<{ verifyPrescription: { status: string; verifiedBy: { id: string }; verifiedAt: string } }>(
      'mutation($id: ID!) { verifyPrescription(id: $id) { status verifiedBy { id } verifiedAt } }',
      { id: rx },
      { token: pharmacist.token },
    );
    expect(verified.verifyPrescription).toMatchObject({ status: 'VERIFIED', verifiedBy: { id: pharmacist.id } });
    expect(Math.abs(Date.parse(verified.verifyPrescription.verifiedAt) - Date.now())).toBeLessThan(120_000);
    expect((await dispense(rx)).data?.dispensePrescription.status).toBe('DISPENSED');
  });

  it('runs the interaction check at the till for a named patient: a contraindication needs a pharmacist\'s override, audited', async () => {
    const who = await patient();
    // The patient is on clarithromycin (a CYP3A4 inhibitor); simvastatin with it is contraindicated.
    await verifiedRx(who, [{ productId: product.clarithromycin, quantity: 10 }]);
    const statin = [{ productId: product.simvastatin, quantity: 1 }];
    expect(failure(await sell(cashier.token, statin, { patientId: who }))).toMatchObject({ code: 'CONFLICT', reason: 'SAFETY_OVERRIDE_REQUIRED' });
    expect(failure(await sell(cashier.token, statin, { patientId: who, safetyOverrideReason: 'customer insists' })).code).toBe('FORBIDDEN');
    // Without a patient there is nothing to check against (an anonymous OTC sale).
    expect((await sell(cashier.token, statin)).errors).toBeUndefined();
    const overridden = await sell(pharmacist.token, statin, { patientId: who, safetyOverrideReason: 'Prescriber stopped clarithromycin yesterday' });
    expect(overridden.errors).toBeUndefined();
    const { rows } = await p.db.pool.query(`SELECT user_id::text, new_values FROM "${schema}".audit_logs WHERE action = 'OVERRIDE_SAFETY_ALERT' AND entity_id = $1`, [
      overridden.data!.createSale.id,
    ]);
    expect(rows).toEqual([{ user_id: pharmacist.id, new_values: expect.objectContaining({ reason: 'Prescriber stopped clarithromycin yesterday' }) }]);
    const alerts = await p.db.pool.query(`SELECT overridden_by::text FROM "${schema}".safety_alerts WHERE patient_id = $1 AND severity = 'CONTRAINDICATED' AND overridden_by IS NOT NULL`, [who]);
    expect(alerts.rows).toEqual([{ overridden_by: pharmacist.id }]);
  });

  it('keeps controlled substances prescription-only in the API and the database', async () => {
    const otc = await p.gql(op('CreateProduct'), { input: { sku: 'MOR-OTC', name: 'Morphine OTC', requiresPrescription: false, controlledSubstance: true } }, { token: t.adminToken });
    expect(failure(otc)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CONTROLLED_REQUIRES_PRESCRIPTION' });
    const update = 'mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { id } }';
    expect(failure(await p.gql(update, { id: product.morphine, i: { requiresPrescription: false } }, { token: t.adminToken }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(failure(await p.gql(update, { id: product.dime, i: { controlledSubstance: true } }, { token: t.adminToken }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    // Morphine over the counter: refused.
    expect(failure(await sell(cashier.token, [{ productId: product.morphine, quantity: 1 }])).code).toBe('FORBIDDEN');
    await expect(p.db.pool.query(`UPDATE "${schema}".products SET requires_prescription = false WHERE id = $1`, [product.morphine])).rejects.toThrow(
      /products_controlled_is_prescription_only/,
    );
  });

  it('gives controlled prescriptions their own validity (30 days unless the tenant says otherwise)', async () => {
    const who = await patient();
    const morphine = (await prescribe(who, [{ productId: product.morphine, quantity: 2 }])).data!.createPrescription;
    expect(morphine.validUntil).toBe(inDays(30));
    const plain = (await prescribe(who, [{ productId: product.amoxicillin, quantity: 2 }])).data!.createPrescription;
    expect(plain.validUntil).toBe(inDays(90));
    // Written 31 days ago, a controlled prescription is already expired.
    expect(failure(await prescribe(who, [{ productId: product.morphine, quantity: 2 }], { datePrescribed: inDays(-31) }))).toMatchObject({ code: 'BAD_USER_INPUT' });
    const settings = await p.ok<{ updateTenantSettings: { controlledPrescriptionValidityDays: number } }>(
      'mutation { updateTenantSettings(input: { controlledPrescriptionValidityDays: 14 }) { controlledPrescriptionValidityDays } }',
      {},
      { token: t.adminToken },
    );
    expect(settings.updateTenantSettings.controlledPrescriptionValidityDays).toBe(14);
    expect((await prescribe(who, [{ productId: product.morphine, quantity: 2 }])).data!.createPrescription.validUntil).toBe(inDays(14));
    await p.ok('mutation { updateTenantSettings(input: { controlledPrescriptionValidityDays: 30 }) { controlledPrescriptionValidityDays } }', {}, { token: t.adminToken });
  });

  it('refuses a sale, and a dispensing, by a seller with no open till session (NO_OPEN_TILL_SESSION)', async () => {
    const [newCashier, newPharmacist] = await Promise.all([createUser(p, t, 'CASHIER', [br1]), createUser(p, t, 'PHARMACIST', [br1])]);
    expect(failure(await sell(newCashier.token, [{ productId: product.dime, quantity: 1 }]))).toMatchObject({ code: 'CONFLICT', reason: 'NO_OPEN_TILL_SESSION' });
    // Another cashier's session is not theirs to book to.
    expect(failure(await sell(newCashier.token, [{ productId: product.dime, quantity: 1 }], { tillSessionId: cashierSession })).code).toBe('FORBIDDEN');
    const rx = await verifiedRx(await patient(), [{ productId: product.amoxicillin, quantity: 1 }]);
    expect(failure(await dispense(rx, newPharmacist.token))).toMatchObject({ code: 'CONFLICT', reason: 'NO_OPEN_TILL_SESSION' });
    const { sessionId } = await openTillSession(p, t, newCashier.token, br1);
    await receive(product.dime, 'DIME-X', 5);
    const sold = await sell(newCashier.token, [{ productId: product.dime, quantity: 1 }]);
    expect(sold.data?.createSale.tillSessionId).toBe(sessionId);
  });

  it('computes VAT per sale line, never per FEFO batch: 3 x K0.10 VAT-inclusive holds 0.04 from three batches', async () => {
    await receive(product.dime, 'DIME-A', 1, '0.10', 30);
    await receive(product.dime, 'DIME-B', 1, '0.10', 60);
    await receive(product.dime, 'DIME-C', 1, '0.10', 90);
    const r = await sell(cashier.token, [{ productId: product.dime, quantity: 3 }]);
    expect(r.errors).toBeUndefined();
    const sale = r.data!.createSale;
    expect(sale.items.map((i) => i.batchNumber).sort()).toEqual(['DIME-A', 'DIME-B', 'DIME-C']);
    expect(sale).toMatchObject({ totalAmount: '0.30', taxAmount: '0.04' });
  });

  it("names the verifying pharmacist and the prescription on the register line of a cashier's controlled sale", async () => {
    const who = await patient();
    const rx = await verifiedRx(who, [{ productId: product.morphine, quantity: 2 }]);
    const sold = await sell(cashier.token, [{ productId: product.morphine, quantity: 2 }], { patientId: who, prescriptionIds: [rx] });
    expect(sold.errors).toBeUndefined();
    const register = await p.ok<{ controlledSubstanceRegister: { quantity: number; reference: string; movementType: string; pharmacist: { id: string } | null; prescription: { id: string } | null; patient: { id: string } | null }[] }>(
      'query($b: ID!, $from: Date!, $to: Date!, $p: ID) { controlledSubstanceRegister(branchId: $b, from: $from, to: $to, productId: $p) { quantity reference movementType pharmacist { id } prescription { id } patient { id } } }',
      { b: br1, from: TODAY, to: TODAY, p: product.morphine },
      { token: pharmacist.token },
    );
    const line = register.controlledSubstanceRegister.find((l) => l.reference === sold.data!.createSale.saleNumber);
    expect(line).toEqual({ quantity: -2, reference: sold.data!.createSale.saleNumber, movementType: 'SALE', pharmacist: { id: pharmacist.id }, prescription: { id: rx }, patient: { id: who } });
  });
});
