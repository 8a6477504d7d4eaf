/** Demo data for `npm start`, created through the public API so that it exercises the real paths. */

export const DEMO_PASSWORDS = {
  operator: 'Operator-Demo-2026!',
  admin: 'Admin-Demo-2026!',
  operations: 'Operations-Demo-2026!',
  pharmacist: 'Pharmacist-Demo-2026!',
  cashier: 'Cashier-Demo-2026!',
} as const;

interface GqlResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[];
}

/** One request through the gateway, like a portal; the gateway's rate limit applies, so a refusal waits and retries. */
async function gql<T>(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<T> {
  for (;;) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as GqlResponse<T>;
    const limited = body.errors?.find((e) => e.extensions?.code === 'TOO_MANY_REQUESTS');
    if (limited) {
      await new Promise((r) => setTimeout(r, (limited.extensions?.retryAfter ?? 1) * 1000));
      continue;
    }
    if (body.errors?.length || !body.data) throw new Error(`seed: ${body.errors?.map((e) => e.message).join('; ') ?? res.status}`);
    return body.data;
  }
}

const LOGIN = `mutation($email: String!, $password: String!, $tenant: String) { login(email: $email, password: $password, tenant: $tenant) { accessToken } }`;

/** Creates the demo tenant with two branches and one user per role, unless it already exists. */
export async function seedDemo(url: string, operatorEmail: string, operatorPassword: string) {
  const subdomain = 'demo';
  const users = [
    { role: 'ADMIN', email: 'admin@demo.umihealth.local', password: DEMO_PASSWORDS.admin, branches: [] as string[] },
    { role: 'OPERATIONS', email: 'operations@demo.umihealth.local', password: DEMO_PASSWORDS.operations, branches: [] },
    { role: 'PHARMACIST', email: 'pharmacist@demo.umihealth.local', password: DEMO_PASSWORDS.pharmacist, branches: ['LSK01'] },
    { role: 'CASHIER', email: 'cashier@demo.umihealth.local', password: DEMO_PASSWORDS.cashier, branches: ['LSK01'] },
  ];
  const result = { subdomain, branches: ['LSK01', 'LSK02'], users };

  const op = await gql<{ login: { accessToken: string } }>(url, LOGIN, { email: operatorEmail, password: operatorPassword });
  const opAuth = { authorization: `Bearer ${op.login.accessToken}` };
  const { tenants } = await gql<{ tenants: { subdomain: string }[] }>(url, '{ tenants { subdomain } }', {}, opAuth);
  if (tenants.some((t) => t.subdomain === subdomain)) return result;

  await gql(url, `mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }`, {
    input: { name: 'Demo Pharmacies Ltd', subdomain, plan: 'professional', adminEmail: users[0]!.email, adminPassword: DEMO_PASSWORDS.admin, adminFirstName: 'Ada', adminLastName: 'Mwansa' },
  }, opAuth);
  const admin = await gql<{ login: { accessToken: string } }>(url, LOGIN, { email: users[0]!.email, password: DEMO_PASSWORDS.admin, tenant: subdomain });
  const adminAuth = { authorization: `Bearer ${admin.login.accessToken}` };
  const ids: Record<string, string> = {};
  for (const [code, name, address] of [
    ['LSK01', 'Cairo Road Pharmacy', 'Cairo Road, Lusaka'],
    ['LSK02', 'Kabulonga Pharmacy', 'Kabulonga Road, Lusaka'],
  ] as const) {
    const b = await gql<{ createBranch: { id: string } }>(url, `mutation($input: CreateBranchInput!) { createBranch(input: $input) { id } }`, { input: { name, code, address } }, adminAuth);
    ids[code] = b.createBranch.id;
  }
  for (const u of users.slice(1)) {
    await gql(url, `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
      input: { email: u.email, password: u.password, firstName: u.role[0] + u.role.slice(1).toLowerCase(), lastName: 'Demo', role: u.role, branchIds: u.branches.map((c) => ids[c]) },
    }, adminAuth);
  }
  await seedCatalogue(url, adminAuth, ids);
  await openDemoTills(url, adminAuth, ids, subdomain, users);
  return result;
}

/**
 * Every sale belongs to a till session of its seller, so each demo seller gets a till with an open
 * session at each branch they serve (the ADMIN at every branch): `npm start` sells at once.
 */
async function openDemoTills(
  url: string,
  adminAuth: Record<string, string>,
  branchIds: Record<string, string>,
  tenant: string,
  users: { role: string; email: string; password: string; branches: string[] }[],
) {
  for (const u of users.filter((x) => x.role !== 'OPERATIONS')) {
    const { login } = await gql<{ login: { accessToken: string } }>(url, LOGIN, { email: u.email, password: u.password, tenant });
    const auth = { authorization: `Bearer ${login.accessToken}` };
    for (const code of u.branches.length > 0 ? u.branches : Object.keys(branchIds)) {
      const till = await gql<{ createTill: { id: string } }>(url, `mutation($b: ID!, $n: String!) { createTill(branchId: $b, name: $n) { id } }`, {
        b: branchIds[code],
        n: `${code} ${u.role.toLowerCase()} till`,
      }, adminAuth);
      await gql(url, `mutation($input: OpenTillInput!) { openTill(input: $input) { id } }`, { input: { tillId: till.createTill.id, openingFloat: '200.00' } }, auth);
    }
  }
}

/** A few everyday lines with stock at both branches, so the portals have something to show. */
const CATALOGUE = [
  { sku: 'PCM-500', name: 'Paracetamol 500mg tablets', genericName: 'paracetamol', form: 'tablet', strength: '500mg', barcode: '6009800000011', taxCategory: 'STANDARD', requiresPrescription: false, controlledSubstance: false, price: '15.00' },
  { sku: 'AMX-500', name: 'Amoxicillin 500mg capsules', genericName: 'amoxicillin', form: 'capsule', strength: '500mg', barcode: '6009800000028', taxCategory: 'ZERO_RATED', requiresPrescription: true, controlledSubstance: false, price: '45.00' },
  { sku: 'ORS-1L', name: 'Oral rehydration salts sachet', genericName: 'oral rehydration salts', form: 'powder', strength: '20.5g', barcode: '6009800000035', taxCategory: 'ZERO_RATED', requiresPrescription: false, controlledSubstance: false, price: '5.00' },
  { sku: 'IBU-400', name: 'Ibuprofen 400mg tablets', genericName: 'ibuprofen', form: 'tablet', strength: '400mg', barcode: '6009800000042', taxCategory: 'STANDARD', requiresPrescription: false, controlledSubstance: false, price: '22.50' },
  { sku: 'DZP-5', name: 'Diazepam 5mg tablets', genericName: 'diazepam', form: 'tablet', strength: '5mg', barcode: '6009800000059', taxCategory: 'STANDARD', requiresPrescription: true, controlledSubstance: true, price: '30.00' },
] as const;

async function seedCatalogue(url: string, adminAuth: Record<string, string>, branchIds: Record<string, string>) {
  const expiry = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
  for (const { price, ...product } of CATALOGUE) {
    const p = await gql<{ createProduct: { id: string } }>(url, `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, { input: product }, adminAuth);
    for (const [i, branchId] of Object.values(branchIds).entries()) {
      for (const [n, days, quantity] of [[1, 45, 40], [2, 400, 120]] as const) {
        await gql(url, `mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { id } }`, {
          input: { branchId, productId: p.createProduct.id, batchNumber: `${product.sku}-${i + 1}${n}`, expiryDate: expiry(days), quantity, costPrice: (Number(price) * 0.6).toFixed(2), sellingPrice: price, reorderLevel: 50 },
        }, adminAuth);
      }
    }
  }
}

/**
 * Points the demo tenant's mobile money at the simulators of this run (their ports change from one
 * start to the next, so this runs at every start; configureMobileMoney replaces the settings).
 */
export async function configureDemoMobileMoney(url: string, subdomain: string, settings: Record<string, unknown>[]) {
  const admin = await gql<{ login: { accessToken: string } }>(url, LOGIN, { email: 'admin@demo.umihealth.local', password: DEMO_PASSWORDS.admin, tenant: subdomain });
  const adminAuth = { authorization: `Bearer ${admin.login.accessToken}` };
  for (const input of settings) {
    await gql(url, `mutation($input: MobileMoneySettingsInput!) { configureMobileMoney(input: $input) { provider } }`, { input }, adminAuth);
  }
}
