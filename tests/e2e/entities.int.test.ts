import { randomUUID } from 'node:crypto';
import { createInternalTokens, createAccessTokens, INTERNAL_HEADER, type Principal } from '@umi/kit';
import { createTenant, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

/** `_entities` of each domain subgraph, with graphql-shield applied, scoped to the caller's tenant. */
describe('entity resolution in the domain subgraphs', () => {
  let p: TestPlatform;
  let a: TenantFixture;
  let b: TenantFixture;
  const rows: Record<'a' | 'b', { product: string; patient: string; prescription: string }> = {
    a: { product: '', patient: '', prescription: '' },
    b: { product: '', patient: '', prescription: '' },
  };

  beforeAll(async () => {
    p = await startTestPlatform();
    [a, b] = await Promise.all([createTenant(p, { branchCount: 1 }), createTenant(p, { branchCount: 1 })]);
    for (const [k, t] of [['a', a], ['b', b]] as const) {
      const schema = `"tenant_${t.subdomain.replace(/-/g, '_')}"`;
      const product = await p.db.pool.query(`INSERT INTO ${schema}.products (sku, name, requires_prescription, controlled_substance) VALUES ('AMOX500', 'Amoxicillin 500mg', true, false) RETURNING id`);
      const patient = await p.db.pool.query(
        `INSERT INTO ${schema}.patients (patient_number, branch_id, first_name, last_name) VALUES ('P-000001', $1, 'Mutale', 'Banda') RETURNING id`,
        [t.branches[0]!.id],
      );
      const prescription = await p.db.pool.query(
        `INSERT INTO ${schema}.prescriptions (prescription_number, branch_id, patient_id, prescriber_name, date_prescribed, valid_until, created_by)
         VALUES ('RX-000001', $1, $2, 'Dr Phiri', current_date, current_date + 30, $3) RETURNING id`,
        [t.branches[0]!.id, patient.rows[0].id, randomUUID()],
      );
      rows[k] = { product: product.rows[0].id, patient: patient.rows[0].id, prescription: prescription.rows[0].id };
    }
  });
  afterAll(async () => {
    await p?.close();
  });

  async function entities(url: string, audience: string, principal: Principal | null, representations: unknown[], selection: string) {
    const token = await createInternalTokens(p.env.INTERNAL_JWT_SECRET, 60).sign({ rid: 'entities', ip: null, ua: null, th: null, usr: principal }, audience);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_HEADER]: token },
      body: JSON.stringify({ query: `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`, variables: { r: representations } }),
    });
    return (await res.json()) as { data?: { _entities: unknown[] } | null; errors?: { extensions?: { code?: string } }[] };
  }

  const principalOf = async (token: string) =>
    (await createAccessTokens({ secret: p.env.JWT_SECRET, issuer: p.env.JWT_ISSUER, audience: p.env.JWT_AUDIENCE, ttlSeconds: p.env.ACCESS_TOKEN_TTL_SECONDS }).verify(token)).principal;

  it('resolves Product (inventory) and Patient (pharmacy) in key order, only for the caller’s tenant', async () => {
    const me = await principalOf(a.adminToken);
    const products = await entities(p.env.INVENTORY_URL!, 'inventory', me, [
      { __typename: 'Product', id: rows.b.product },
      { __typename: 'Product', id: rows.a.product },
    ], '... on Product { id sku name requiresPrescription }');
    expect(products.errors).toBeUndefined();
    expect(products.data?._entities).toEqual([null, { id: rows.a.product, sku: 'AMOX500', name: 'Amoxicillin 500mg', requiresPrescription: true }]);

    const patients = await entities(p.env.PHARMACY_URL!, 'pharmacy', me, [{ __typename: 'Patient', id: rows.a.patient }, { __typename: 'Patient', id: rows.b.patient }], '... on Patient { id patientNumber lastName }');
    expect(patients.data?._entities).toEqual([{ id: rows.a.patient, patientNumber: 'P-000001', lastName: 'Banda' }, null]);
  });

  it('resolves a Prescription only for callers who may see its branch (a cashier of the same branch may not)', async () => {
    const admin = await principalOf(a.adminToken);
    const cashier: Principal = { ...admin, userId: randomUUID(), role: 'CASHIER', branchIds: [a.branches[0]!.id] };
    const reps = [{ __typename: 'Prescription', id: rows.a.prescription }, { __typename: 'Prescription', id: rows.b.prescription }];
    const asAdmin = await entities(p.env.PHARMACY_URL!, 'pharmacy', admin, reps, '... on Prescription { id prescriptionNumber }');
    expect(asAdmin.data?._entities).toEqual([{ id: rows.a.prescription, prescriptionNumber: 'RX-000001' }, null]);
    const asCashier = await entities(p.env.PHARMACY_URL!, 'pharmacy', cashier, reps, '... on Prescription { id prescriptionNumber }');
    expect(asCashier.data?._entities).toEqual([null, null]);
  });

  it('refuses callers without a tenant under graphql-shield', async () => {
    for (const [url, audience, typename, id] of [
      [p.env.INVENTORY_URL!, 'inventory', 'Product', rows.a.product],
      [p.env.PHARMACY_URL!, 'pharmacy', 'Patient', rows.a.patient],
      [p.env.POS_URL!, 'pos', 'Sale', rows.a.product],
    ] as const) {
      const r = await entities(url, audience, null, [{ __typename: typename, id }], `... on ${typename} { id }`);
      expect([audience, r.errors?.[0]?.extensions?.code]).toEqual([audience, 'UNAUTHENTICATED']);
    }
  });
});
