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
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function gql<T>(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as GqlResponse<T>;
  if (body.errors?.length || !body.data) throw new Error(`seed: ${body.errors?.map((e) => e.message).join('; ') ?? res.status}`);
  return body.data;
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
  return result;
}
