import { randomBytes, randomUUID } from 'node:crypto';
import { tenantSchemaName } from '@umi/db';
import { addDays, createFieldCipher, createLogger, dateInZone, parseKeyring } from '@umi/kit';
import { reencryptPatients } from '../../subgraphs/pharmacy/src/jobs/reencrypt';
import { contractOperation, createTenant, createUser, ledgerBreaks, openTillSession, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const TODAY = dateInZone('Africa/Lusaka');
const inDays = (n: number) => addDays(TODAY, n);
type Gql = { errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
const code = (r: Gql) => r.errors?.[0]?.extensions?.code;

interface Warning {
  severity: string;
  message: string;
}

/** The pharmacist's portal through the gateway: patients, prescriptions, safety checks, dispensing, the register. */
describe('contract: pharmacy', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let br1: string;
  let br2: string;
  let schema: string;
  let pharmacist: { id: string; email: string; token: string };
  let cashier: { id: string; email: string; token: string };
  let otherPharmacist: { id: string; email: string; token: string };
  const product = { simvastatin: '', clarithromycin: '', amoxicillin: '', paracetamol: '', morphine: '' };

  async function createProduct(sku: string, genericName: string, extra: Record<string, unknown> = {}) {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `${genericName} ${sku}`, genericName, requiresPrescription: true, controlledSubstance: false, ...extra } },
      { token: t.adminToken },
    );
    return r.createProduct.id;
  }

  const receive = (productId: string, batchNumber: string, expiryDate: string, quantity: number, branchId = br1) =>
    p.ok(op('ReceiveStock'), { input: { branchId, productId, batchNumber, expiryDate, quantity, costPrice: '5.00', sellingPrice: '10.00' } }, { token: t.adminToken });

  async function createPatient(token: string, input: Record<string, unknown> = {}) {
    return p.gql<{ createPatient: { id: string; patientNumber: string; firstName: string; lastName: string; allergies: string[] } }>(
      op('CreatePatient'),
      { input: { firstName: 'Chanda', lastName: `Mwale${randomUUID().slice(0, 4)}`, dateOfBirth: '1980-04-02', phone: '+260971234567', ...input } },
      { token },
    );
  }

  const prescribe = (token: string, patientId: string, items: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
    p.gql<{ createPrescription: { id: string; prescriptionNumber: string; status: string; warnings: Warning[]; items: { quantity: number; product: { id: string; controlledSubstance: boolean } }[] } }>(
      op('CreatePrescription'),
      { input: { branchId: br1, patientId, prescriberName: 'Dr Banda', prescriberLicense: 'HPCZ-1', datePrescribed: TODAY, items, ...extra } },
      { token },
    );

  /** Verification is the pharmacist's explicit act: nothing is supplied against a PENDING prescription. */
  const verify = (id: string) => p.ok(op('VerifyPrescription'), { id }, { token: pharmacist.token });

  const dispense = (token: string, id: string, overrideReason?: string) =>
    p.gql<{ dispensePrescription: { id: string; status: string; dispensedAt: string; pharmacist: { id: string; email: string }; dispensedItems: { quantity: number; batchNumber: string; product: { id: string; sku: string } }[] } }>(
      overrideReason ? 'mutation($id: ID!, $r: String) { dispensePrescription(id: $id, overrideReason: $r) { id status } }' : op('DispensePrescription'),
      { id, ...(overrideReason ? { r: overrideReason } : {}) },
      { token },
    );

  /** Operations and statements spent by the subgraphs between two readings. */
  async function costs(): Promise<{ operations: number; queries: number }> {
    let operations = 0;
    let queries = 0;
    for (const service of ['tenant', 'pharmacy', 'inventory', 'pos'] as const) {
      const text = await (await fetch(p.metricsUrl(service))).text();
      const read = (name: string) => Number(text.split('\n').find((l) => l.startsWith(name))?.split(' ').pop() ?? 0);
      operations += read('subgraph_operations_total');
      queries += read('database_queries_total');
    }
    return { operations, queries };
  }

  beforeAll(async () => {
    // The statement count below is per process: the background workers' polls (mobile money, fiscal)
    // would count too, so they stay off here; nothing in this suite needs them.
    p = await startTestPlatform({ MOMO_WORKER: 'false', FISCAL_WORKER: 'false' });
    t = await createTenant(p, { branchCount: 2 });
    br1 = t.branches[0]!.id;
    br2 = t.branches[1]!.id;
    schema = tenantSchemaName(t.subdomain);
    [pharmacist, cashier, otherPharmacist] = await Promise.all([
      createUser(p, t, 'PHARMACIST', [br1]),
      createUser(p, t, 'CASHIER', [br1]),
      createUser(p, t, 'PHARMACIST', [br2]),
    ]);
    // Sales and dispensings are booked to the seller's open till session.
    await Promise.all([openTillSession(p, t, pharmacist.token, br1), openTillSession(p, t, cashier.token, br1)]);
    product.simvastatin = await createProduct('SIM-20', 'simvastatin');
    product.clarithromycin = await createProduct('CLA-500', 'clarithromycin');
    product.amoxicillin = await createProduct('AMX-500', 'amoxicillin');
    product.paracetamol = await createProduct('PCM-500', 'paracetamol', { requiresPrescription: false });
    product.morphine = await createProduct('MOR-10', 'morphine', { controlledSubstance: true });
    for (const [key, qty] of Object.entries({ simvastatin: 100, clarithromycin: 100, amoxicillin: 100, paracetamol: 500 })) {
      await receive(product[key as keyof typeof product], `${key.toUpperCase()}-1`, inDays(365), qty);
    }
  });
  afterAll(async () => {
    await p?.close();
  });
  afterEach(async () => {
    // The ledger invariant after every test: each batch's quantity on hand is the sum of its movements.
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('runs CreatePatient and Patients; medical history is ciphertext in the database and readable only by pharmacists and admins', async () => {
    const history = 'Type 2 diabetes since 2015; rash with co-trimoxazole';
    const created = await createPatient(pharmacist.token, { firstName: 'Mutale', lastName: 'Phiri', allergies: ['Penicillin', ' sulfa '], medicalHistory: history });
    expect(created.errors).toBeUndefined();
    const patient = created.data!.createPatient;
    expect(patient).toMatchObject({ patientNumber: expect.stringMatching(/^P-\d{6}$/), firstName: 'Mutale', lastName: 'Phiri', allergies: ['penicillin', 'sulfa'] });

    const { rows } = await p.db.pool.query(`SELECT row_to_json(p)::text AS row, medical_history_ciphertext, medical_history_key_version FROM "${schema}".patients p WHERE id = $1`, [patient.id]);
    expect(rows[0].row).not.toContain('diabetes');
    expect(Buffer.from(rows[0].medical_history_ciphertext, 'base64').toString('latin1')).not.toContain('diabetes');
    expect(rows[0].medical_history_key_version).toBe(1);

    const chart = (token: string) => p.gql<{ patient: { medicalHistory: string | null; lastName: string } }>(op('PatientChart'), { id: patient.id }, { token });
    for (const token of [pharmacist.token, t.adminToken]) expect((await chart(token)).data?.patient.medicalHistory).toBe(history);
    const byCashier = await chart(cashier.token);
    expect(byCashier.data?.patient?.medicalHistory ?? null).toBeNull();
    expect(byCashier.errors?.find((e) => e.path?.includes('medicalHistory'))?.extensions?.code).toBe('FORBIDDEN');
    const audit = await p.db.pool.query(`SELECT user_id::text FROM "${schema}".audit_logs WHERE action = 'READ_SENSITIVE' AND entity_id = $1 ORDER BY "timestamp"`, [patient.id]);
    expect(audit.rows.map((r) => r.user_id)).toEqual(expect.arrayContaining([pharmacist.id]));
    expect(audit.rows.map((r) => r.user_id)).not.toContain(cashier.id);

    const search = async (s: string) =>
      (await p.ok<{ patients: { edges: { node: { id: string } }[] } }>(op('Patients'), { search: s, first: 10 }, { token: pharmacist.token })).patients.edges.map((e) => e.node.id);
    expect(await search('phi')).toContain(patient.id);
    expect(await search(patient.patientNumber)).toEqual([patient.id]);
    expect(await search('+26097')).toContain(patient.id);
    expect(code(await createPatient(pharmacist.token, { firstName: ' ' }))).toBe('BAD_USER_INPUT');
    expect(code(await createPatient(cashier.token))).toBe('FORBIDDEN');
  });

  it('runs CreatePrescription and InteractionCheck: known pairs warn with their severity, allergies warn, duplicates warn', async () => {
    const patient = (await createPatient(pharmacist.token, { allergies: ['amoxicillin'] })).data!.createPatient;
    const rx = await prescribe(pharmacist.token, patient.id, [
      { productId: product.simvastatin, quantity: 30, dosage: '20mg at night' },
      { productId: product.clarithromycin, quantity: 14, dosage: '500mg twice daily' },
    ]);
    expect(rx.errors).toBeUndefined();
    expect(rx.data!.createPrescription).toMatchObject({ prescriptionNumber: 'RX-BR01-000001', status: 'PENDING' });
    expect(rx.data!.createPrescription.warnings).toEqual([{ severity: 'CONTRAINDICATED', message: expect.stringMatching(/simvastatin/i) }]);
    expect(rx.data!.createPrescription.items.map((i) => i.quantity)).toEqual([30, 14]);

    const check = await p.ok<{ checkInteractions: { severity: string; message: string; productIds: string[] }[] }>(
      op('InteractionCheck'),
      { productIds: [product.amoxicillin, product.paracetamol], patientId: patient.id },
      { token: pharmacist.token },
    );
    // Amoxicillin: the patient's allergy; and clarithromycin of their current prescription does not interact with it.
    expect(check.checkInteractions).toEqual([{ severity: 'CONTRAINDICATED', message: expect.stringMatching(/amoxicillin/i), productIds: [product.amoxicillin] }]);
    const against = await p.ok<{ checkInteractions: { severity: string; productIds: string[] }[] }>(op('InteractionCheck'), { productIds: [product.clarithromycin] , patientId: patient.id }, { token: pharmacist.token });
    // Clarithromycin again: a duplicate of the current prescription and the interaction with its simvastatin.
    expect(against.checkInteractions.map((w) => w.severity)).toEqual(['CONTRAINDICATED', 'MODERATE']);
    expect(against.checkInteractions[0]!.productIds.sort()).toEqual([product.clarithromycin, product.simvastatin].sort());
    const harmless = await p.ok<{ checkInteractions: unknown[] }>(op('InteractionCheck'), { productIds: [product.paracetamol, product.amoxicillin] }, { token: pharmacist.token });
    expect(harmless.checkInteractions).toEqual([]);
    expect(code(await p.gql(op('InteractionCheck'), { productIds: [product.paracetamol] }, { token: cashier.token }))).toBe('FORBIDDEN');
    expect(code(await p.gql(op('InteractionCheck'), { productIds: [randomUUID()] }, { token: pharmacist.token }))).toBe('NOT_FOUND');
    const { rows } = await p.db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".safety_alerts WHERE patient_id = $1`, [patient.id]);
    expect(rows[0].n).toBe(4);
  });

  it('runs DispensePrescription: FEFO batches, contraindications need an override, twice is refused, short stock fills partly', async () => {
    const patient = (await createPatient(pharmacist.token)).data!.createPatient;
    await receive(product.amoxicillin, 'AMX-EARLY', inDays(60), 10);
    const plain = (await prescribe(pharmacist.token, patient.id, [{ productId: product.amoxicillin, quantity: 15, dosage: '500mg three times daily', courseDays: 5 }])).data!.createPrescription;
    expect(code(await dispense(cashier.token, plain.id))).toBe('FORBIDDEN');
    expect(code(await dispense(otherPharmacist.token, plain.id))).toBe('FORBIDDEN');
    await verify(plain.id);
    const done = await dispense(pharmacist.token, plain.id);
    expect(done.errors).toBeUndefined();
    expect(done.data!.dispensePrescription).toMatchObject({ status: 'DISPENSED', pharmacist: { id: pharmacist.id, email: pharmacist.email } });
    expect(done.data!.dispensePrescription.dispensedItems.map((d) => [d.batchNumber, d.quantity]).sort()).toEqual([
      ['AMOXICILLIN-1', 5],
      ['AMX-EARLY', 10],
    ]);
    const again = await dispense(pharmacist.token, plain.id);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_DISPENSED' });

    const risky = (await prescribe(pharmacist.token, patient.id, [
      { productId: product.simvastatin, quantity: 10, dosage: '20mg' },
      { productId: product.clarithromycin, quantity: 10, dosage: '500mg' },
    ])).data!.createPrescription;
    await verify(risky.id);
    const blocked = await dispense(pharmacist.token, risky.id);
    expect(blocked.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SAFETY_OVERRIDE_REQUIRED' });
    const overridden = await dispense(pharmacist.token, risky.id, 'Prescriber confirmed by phone; statin paused during the course');
    expect(overridden.data?.dispensePrescription.status).toBe('DISPENSED');
    const audit = await p.db.pool.query(`SELECT new_values FROM "${schema}".audit_logs WHERE action = 'OVERRIDE_SAFETY_ALERT' AND entity_id = $1`, [risky.id]);
    expect(audit.rows[0].new_values.reason).toMatch(/Prescriber confirmed/);

    const short = (await prescribe(pharmacist.token, patient.id, [{ productId: product.paracetamol, quantity: 600, dosage: '1g four times daily' }])).data!.createPrescription;
    await verify(short.id);
    const partial = await dispense(pharmacist.token, short.id);
    expect(partial.data?.dispensePrescription.status).toBe('PARTIALLY_DISPENSED');
    const nothing = await dispense(pharmacist.token, short.id);
    expect(nothing.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT_STOCK' });
    await receive(product.paracetamol, 'PCM-2', inDays(200), 200);
    expect((await dispense(pharmacist.token, short.id)).data?.dispensePrescription.status).toBe('DISPENSED');

    const list = await p.ok<{ prescriptions: { edges: { node: { status: string; patient: { id: string } } }[] } }>(op('Prescriptions'), { branchId: br1, status: 'DISPENSED', first: 50 }, { token: pharmacist.token });
    expect(list.prescriptions.edges.filter((e) => e.node.patient.id === patient.id)).toHaveLength(3);
    expect(code(await p.gql(op('Prescriptions'), { branchId: br2, first: 5 }, { token: pharmacist.token }))).toBe('FORBIDDEN');
    expect(code(await p.gql(op('Prescriptions'), { branchId: br1, first: 5 }, { token: cashier.token }))).toBe('FORBIDDEN');
  });

  it('runs ControlledRegister: every movement of a controlled product, with a running balance that matches the stock ledger', async () => {
    const patient = (await createPatient(pharmacist.token)).data!.createPatient;
    await receive(product.morphine, 'MOR-A', inDays(90), 20);
    await receive(product.morphine, 'MOR-B', inDays(400), 30);
    const rx1 = (await prescribe(pharmacist.token, patient.id, [{ productId: product.morphine, quantity: 25, dosage: '10mg every 4 hours' }])).data!.createPrescription;
    expect(rx1.items[0]!.product.controlledSubstance).toBe(true);
    await verify(rx1.id);
    await dispense(pharmacist.token, rx1.id);
    await p.ok(op('TransferStock'), { input: { fromBranchId: br1, toBranchId: br2, productId: product.morphine, quantity: 5 } }, { token: t.adminToken });
    // A second prescriber for the same controlled medicine within 30 days: double doctoring.
    const rx2 = await prescribe(pharmacist.token, patient.id, [{ productId: product.morphine, quantity: 2, dosage: '10mg' }], { prescriberName: 'Dr Zulu', prescriberLicense: 'HPCZ-2' });
    expect(rx2.data!.createPrescription.warnings).toEqual([expect.objectContaining({ severity: 'MAJOR', message: expect.stringMatching(/another prescriber/) })]);

    const register = await p.ok<{ controlledSubstanceRegister: { quantity: number; balanceAfter: number; batchNumber: string; reference: string | null; product: { sku: string }; patient: { id: string } | null; pharmacist: { email: string } | null }[] }>(
      op('ControlledRegister'),
      { branchId: br1, from: inDays(-1), to: TODAY },
      { token: pharmacist.token },
    );
    const lines = register.controlledSubstanceRegister;
    expect(lines.map((l) => [l.quantity, l.balanceAfter])).toEqual([
      [20, 20],
      [30, 50],
      [-20, 30],
      [-5, 25],
      [-5, 20],
    ]);
    expect(lines[2]).toMatchObject({ batchNumber: 'MOR-A', reference: rx1.prescriptionNumber, patient: { id: patient.id }, pharmacist: { email: pharmacist.email }, product: { sku: 'MOR-10' } });
    const { rows } = await p.db.pool.query(`SELECT sum(quantity_on_hand)::int AS n FROM "${schema}".inventory_batches WHERE product_id = $1 AND branch_id = $2`, [product.morphine, br1]);
    expect(lines[lines.length - 1]!.balanceAfter).toBe(rows[0].n);
    const ledger = await p.db.pool.query(`SELECT sum(quantity)::int AS n FROM "${schema}".stock_movements WHERE product_id = $1 AND branch_id = $2`, [product.morphine, br1]);
    expect(lines.reduce((n, l) => n + l.quantity, 0)).toBe(ledger.rows[0].n);
    const events = await p.db.pool.query(`SELECT severity FROM "${schema}".compliance_events WHERE event_type = 'CONTROLLED_SUBSTANCE_DISPENSED' AND data->>'prescriptionId' = $1`, [rx1.id]);
    expect(events.rows).toEqual([{ severity: 'high' }]);
    expect(code(await p.gql(op('ControlledRegister'), { branchId: br1, from: TODAY, to: TODAY }, { token: cashier.token }))).toBe('FORBIDDEN');
  });

  it("checks the tenant's own interaction rules, updates patients with re-encryption, and cancels prescriptions", async () => {
    const rule = await p.ok<{ createInteractionRule: { id: string; leftKey: string; rightKey: string } }>(
      'mutation($i: InteractionRuleInput!) { createInteractionRule(input: $i) { id leftKey rightKey } }',
      { i: { leftKey: 'Paracetamol', rightKey: 'j01ca04', severity: 'MAJOR', message: 'House rule: review the dose together', source: 'Chain formulary 2026' } },
      { token: pharmacist.token },
    );
    expect(rule.createInteractionRule).toMatchObject({ leftKey: 'paracetamol', rightKey: 'J01CA04' });
    await p.ok('mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { id } }', { id: product.amoxicillin, i: { atcCode: 'J01CA04' } }, { token: t.adminToken });
    const check = () => p.ok<{ checkInteractions: { severity: string; message: string }[] }>(op('InteractionCheck'), { productIds: [product.paracetamol, product.amoxicillin] }, { token: pharmacist.token });
    expect((await check()).checkInteractions).toEqual([expect.objectContaining({ severity: 'MAJOR', message: expect.stringMatching(/House rule/) })]);
    await p.ok('mutation($id: ID!) { deactivateInteractionRule(id: $id) { isActive } }', { id: rule.createInteractionRule.id }, { token: pharmacist.token });
    expect((await check()).checkInteractions).toEqual([]);

    const patient = (await createPatient(pharmacist.token, { medicalHistory: 'first version' })).data!.createPatient;
    const cipher = async () => (await p.db.pool.query(`SELECT medical_history_ciphertext AS c FROM "${schema}".patients WHERE id = $1`, [patient.id])).rows[0].c as string;
    const before = await cipher();
    await p.ok('mutation($id: ID!, $i: UpdatePatientInput!) { updatePatient(id: $id, input: $i) { id } }', { id: patient.id, i: { medicalHistory: 'second version', allergies: ['Ibuprofen'] } }, { token: pharmacist.token });
    expect(await cipher()).not.toBe(before);
    const chart = await p.ok<{ patient: { medicalHistory: string; allergies: string[] } }>(op('PatientChart'), { id: patient.id }, { token: pharmacist.token });
    expect(chart.patient).toMatchObject({ medicalHistory: 'second version', allergies: ['ibuprofen'] });

    const rx = (await prescribe(pharmacist.token, patient.id, [{ productId: product.paracetamol, quantity: 2, dosage: '1g' }])).data!.createPrescription;
    const cancel = 'mutation($id: ID!) { cancelPrescription(id: $id, reason: "written for the wrong patient") { status } }';
    expect((await p.ok<{ cancelPrescription: { status: string } }>(cancel, { id: rx.id }, { token: pharmacist.token })).cancelPrescription.status).toBe('CANCELLED');
    expect(code(await dispense(pharmacist.token, rx.id))).toBe('CONFLICT');
    expect(code(await p.gql(cancel, { id: rx.id }, { token: pharmacist.token }))).toBe('CONFLICT');
  });

  it('lets the till sell a prescription-only product only against a verified prescription of the patient', async () => {
    const patient = (await createPatient(pharmacist.token)).data!.createPatient;
    const sell = (extra: Record<string, unknown>) =>
      p.gql(op('CreateSale'), { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), items: [{ productId: product.amoxicillin, quantity: 2 }], ...extra } }, { token: cashier.token });
    expect(code(await sell({}))).toBe('FORBIDDEN');
    const rx = (await prescribe(pharmacist.token, patient.id, [{ productId: product.amoxicillin, quantity: 2, dosage: '500mg' }])).data!.createPrescription;
    // Still PENDING: it supplies nothing until a pharmacist verifies it.
    expect((await sell({ patientId: patient.id, prescriptionIds: [rx.id] })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'PRESCRIPTION_NOT_VERIFIED' });
    const verified = await p.ok<{ verifyPrescription: { id: string; status: string } }>(op('VerifyPrescription'), { id: rx.id }, { token: pharmacist.token });
    expect(verified.verifyPrescription).toEqual({ id: rx.id, status: 'VERIFIED' });
    const other = (await createPatient(pharmacist.token)).data!.createPatient;
    expect(code(await sell({ patientId: other.id, prescriptionIds: [rx.id] }))).toBe('FORBIDDEN');
    expect((await sell({ patientId: patient.id, prescriptionIds: [rx.id] })).errors).toBeUndefined();
  });

  it('serves PatientChart for 50 prescriptions and 50 purchases with a bounded number of subgraph operations and statements', async () => {
    const patient = (await createPatient(pharmacist.token, { medicalHistory: 'asthma' })).data!.createPatient;
    for (let i = 0; i < 50; i++) {
      await prescribe(pharmacist.token, patient.id, [
        { productId: product.paracetamol, quantity: 1, dosage: '1g' },
        { productId: product.clarithromycin, quantity: 1, dosage: '500mg' },
      ]);
      await p.ok(op('CreateSale'), { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), patientId: patient.id, items: [{ productId: product.paracetamol, quantity: 1 }] } }, { token: cashier.token });
    }
    await p.ok(op('PatientChart'), { id: patient.id }, { token: pharmacist.token }); // warm the directories
    const before = await costs();
    const chart = await p.ok<{ patient: { prescriptions: { items: { product: { sku: string } }[] }[]; purchases: { saleNumber: string }[] } }>(op('PatientChart'), { id: patient.id }, { token: pharmacist.token });
    const after = await costs();
    expect(chart.patient.prescriptions).toHaveLength(50);
    expect(chart.patient.prescriptions.every((rx) => rx.items.length === 2 && rx.items.every((i) => i.product.sku))).toBe(true);
    expect(chart.patient.purchases).toHaveLength(50);
    const cost = { operations: after.operations - before.operations, queries: after.queries - before.queries };
    // One fetch per subgraph in the plan (pharmacy, then inventory and pos in parallel), and a
    // handful of statements: the patient, prescriptions, items, the audit row of the medical
    // history read, products, and the purchases.
    expect(cost.operations).toBe(3);
    expect(cost.queries).toBeLessThanOrEqual(10);
    process.stdout.write(`PatientChart (50 prescriptions, 50 purchases): ${cost.operations} subgraph operations, ${cost.queries} SQL statements\n`);
  });

  // Last: it re-encrypts every patient under a key the running platform does not have.
  it('rotates the patient-data key: old values re-encrypted under the new version, same text', async () => {
    const patient = (await createPatient(pharmacist.token, { medicalHistory: 'epilepsy, on carbamazepine' })).data!.createPatient;
    const rotated = createFieldCipher(parseKeyring(`${p.env.PATIENT_DATA_KEYS},2:${randomBytes(32).toString('base64')}`));
    const before = (await p.db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".patients WHERE medical_history_key_version = 1`)).rows[0].n as number;
    expect(before).toBeGreaterThan(0);
    const { rewritten } = await reencryptPatients(p.db.pool, rotated, createLogger('test', 'silent'), 3);
    expect(rewritten).toBeGreaterThanOrEqual(before);
    const { rows } = await p.db.pool.query(`SELECT medical_history_ciphertext AS c, medical_history_key_version AS v FROM "${schema}".patients WHERE id = $1`, [patient.id]);
    expect(rows[0].v).toBe(2);
    expect(rotated.decrypt(t.id, `patients:${patient.id}:medical_history`, rows[0].c, 2)).toBe('epilepsy, on carbamazepine');
    const left = await p.db.pool.query(`SELECT count(*)::int AS n FROM "${schema}".patients WHERE medical_history_key_version = 1`);
    expect(left.rows[0].n).toBe(0);
    expect((await reencryptPatients(p.db.pool, rotated, createLogger('test', 'silent'))).rewritten).toBe(0);
  });
});
