import { randomUUID } from 'node:crypto';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation as op, createTenant, createUser, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

type Gql = { errors?: { message: string; extensions?: Record<string, unknown> }[] };
const code = (r: Gql) => r.errors?.[0]?.extensions?.code;

const SETTINGS = 'query { tenantSettings { defaultTaxCategory } }';
const SET_DEFAULT = 'mutation($c: TaxCategory!) { updateTenantSettings(input: { defaultTaxCategory: $c }) { defaultTaxCategory pricesIncludeTax } }';
const CREATE_PRODUCT = 'mutation($input: CreateProductInput!) { createProduct(input: $input) { id taxCategory } }';

/** A tenant's default tax category for new products, set once by an ADMIN, through the gateway down to the till. */
describe('tenant setting: default tax category', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let other: TenantFixture;
  let branchId: string;
  let cashier: { id: string; token: string };

  async function product(tenant: TenantFixture, sku: string, taxCategory?: string): Promise<{ id: string; taxCategory: string }> {
    const input = { sku, name: `Product ${sku}`, requiresPrescription: false, controlledSubstance: false, ...(taxCategory ? { taxCategory } : {}) };
    return (await p.ok<{ createProduct: { id: string; taxCategory: string } }>(CREATE_PRODUCT, { input }, { token: tenant.adminToken })).createProduct;
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    [t, other] = await Promise.all([createTenant(p, { branchCount: 1 }), createTenant(p, { branchCount: 1 })]);
    branchId = t.branches[0]!.id;
    cashier = await createUser(p, t, 'CASHIER', [branchId]);
  });
  afterAll(async () => {
    await p?.close();
  });

  it('is STANDARD until an ADMIN changes it; a cashier may read it but not change it; the change is audited', async () => {
    expect(await p.ok(SETTINGS, {}, { token: cashier.token })).toEqual({ tenantSettings: { defaultTaxCategory: 'STANDARD' } });
    expect(code(await p.gql(SET_DEFAULT, { c: 'ZERO_RATED' }, { token: cashier.token }))).toBe('FORBIDDEN');

    const set = await p.ok<{ updateTenantSettings: unknown }>(SET_DEFAULT, { c: 'ZERO_RATED' }, { token: t.adminToken });
    // Settings not named stay as they were.
    expect(set.updateTenantSettings).toEqual({ defaultTaxCategory: 'ZERO_RATED', pricesIncludeTax: true });
    expect(await p.ok(SETTINGS, {}, { token: cashier.token })).toEqual({ tenantSettings: { defaultTaxCategory: 'ZERO_RATED' } });
    expect(await p.ok(SETTINGS, {}, { token: other.adminToken })).toEqual({ tenantSettings: { defaultTaxCategory: 'STANDARD' } });
    expect(code(await p.gql(SET_DEFAULT, { c: 'REDUCED' }, { token: t.adminToken }))).toBe('BAD_USER_INPUT');

    const { rows } = await p.db.pool.query(
      `SELECT old_values->>'defaultTaxCategory' AS before, new_values->>'defaultTaxCategory' AS after FROM "${tenantSchemaName(t.subdomain)}".audit_logs
        WHERE entity_type = 'TenantSettings' AND action = 'UPDATE'`,
    );
    expect(rows).toEqual([{ before: 'STANDARD', after: 'ZERO_RATED' }]);
  });

  it('gives a new product without a tax category the default, lets an explicit category win, and sells the default without VAT', async () => {
    const zero = await product(t, 'ORS-1');
    const standard = await product(t, 'THERM-1', 'STANDARD');
    expect(zero.taxCategory).toBe('ZERO_RATED');
    expect(standard.taxCategory).toBe('STANDARD');
    // The contract's CreateProduct, which names no tax category, takes the default too.
    const viaContract = await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku: 'ORS-2', name: 'ORS 2', requiresPrescription: false, controlledSubstance: false } }, { token: t.adminToken });
    const { rows } = await p.db.pool.query(`SELECT tax_category FROM "${tenantSchemaName(t.subdomain)}".products WHERE id = $1`, [viaContract.createProduct.id]);
    expect(rows).toEqual([{ tax_category: 'ZERO_RATED' }]);
    // Another tenant's default is its own.
    expect((await product(other, 'ORS-1')).taxCategory).toBe('STANDARD');

    const expiryDate = addDays(dateInZone('Africa/Lusaka'), 200);
    for (const [id, batchNumber] of [[zero.id, 'ORS-A'], [standard.id, 'TH-A']] as const) {
      await p.ok(op('ReceiveStock'), { input: { branchId, productId: id, batchNumber, expiryDate, quantity: 10, costPrice: '1.00', sellingPrice: '100.00' } }, { token: t.adminToken });
    }
    const till = await p.ok<{ createTill: { id: string } }>(op('CreateTill'), { branchId, name: 'Front' }, { token: t.adminToken });
    const session = await p.ok<{ openTill: { id: string } }>(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat: '0.00' } }, { token: cashier.token });
    const sell = (productId: string) =>
      p.ok<{ createSale: { taxAmount: string; totalAmount: string } }>(
        op('CreateSale'),
        { input: { branchId, paymentMethod: 'CARD', idempotencyKey: randomUUID(), tillSessionId: session.openTill.id, items: [{ productId, quantity: 1 }] } },
        { token: cashier.token },
      );
    expect((await sell(zero.id)).createSale).toMatchObject({ taxAmount: '0.00', totalAmount: '100.00' });
    // 100.00 at 16%, VAT-inclusive, contains 13.79.
    expect((await sell(standard.id)).createSale).toMatchObject({ taxAmount: '13.79', totalAmount: '100.00' });
  });
});
