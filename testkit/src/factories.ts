import { randomBytes } from 'node:crypto';
import type { TestPlatform } from './platform';

export interface TenantFixture {
  id: string;
  subdomain: string;
  adminEmail: string;
  adminPassword: string;
  adminToken: string;
  branches: { id: string; code: string }[];
}

export const LOGIN = `mutation Login($email: String!, $password: String!, $tenant: String) {
  login(email: $email, password: $password, tenant: $tenant) { accessToken refreshToken expiresIn user { id email role branches { id code } } }
}`;

/** A unique lowercase label for a test's tenant, so tests never share data. */
export function uniqueSubdomain(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Logs in and returns the access token. */
export async function login(p: TestPlatform, email: string, password: string, tenant?: string): Promise<string> {
  const d = await p.ok<{ login: { accessToken: string } }>(LOGIN, { email, password, tenant });
  return d.login.accessToken;
}

/** Provisions a tenant through the API with its ADMIN signed in and `branchCount` branches. */
export async function createTenant(p: TestPlatform, opts: { plan?: string; branchCount?: number } = {}): Promise<TenantFixture> {
  const superToken = await p.loginSuperAdmin();
  const subdomain = uniqueSubdomain();
  const adminEmail = `admin@${subdomain}.test`;
  const adminPassword = 'Admin-Password-123';
  const t = await p.ok<{ createTenant: { id: string } }>(
    `mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }`,
    { input: { name: `Pharmacy ${subdomain}`, subdomain, plan: opts.plan ?? 'professional', adminEmail, adminPassword, adminFirstName: 'Ada', adminLastName: 'Admin' } },
    { token: superToken },
  );
  const adminToken = await login(p, adminEmail, adminPassword, subdomain);
  const branches: { id: string; code: string }[] = [];
  for (let i = 1; i <= (opts.branchCount ?? 2); i++) {
    const code = `BR${String(i).padStart(2, '0')}`;
    const b = await p.ok<{ createBranch: { id: string; code: string } }>(
      `mutation($input: CreateBranchInput!) { createBranch(input: $input) { id code } }`,
      { input: { name: `Branch ${i}`, code } },
      { token: adminToken },
    );
    branches.push(b.createBranch);
  }
  return { id: t.createTenant.id, subdomain, adminEmail, adminPassword, adminToken, branches };
}

/** Adds a user to the tenant and returns its id and a signed-in token. */
export async function createUser(
  p: TestPlatform,
  tenant: TenantFixture,
  role: 'ADMIN' | 'OPERATIONS' | 'PHARMACIST' | 'CASHIER',
  branchIds: string[],
  permissions?: Record<string, unknown>,
): Promise<{ id: string; email: string; password: string; token: string }> {
  const email = `${role.toLowerCase()}-${randomBytes(3).toString('hex')}@${tenant.subdomain}.test`;
  const password = 'User-Password-1234';
  const u = await p.ok<{ createUser: { id: string } }>(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`,
    { input: { email, password, firstName: 'Test', lastName: role, role, branchIds, ...(permissions ? { permissions } : {}) } },
    { token: tenant.adminToken },
  );
  return { id: u.createUser.id, email, password, token: await login(p, email, password, tenant.subdomain) };
}

/**
 * Opens a till session for the user of `token` at the branch (every sale and dispensing is booked
 * to one): creates a till with the tenant's ADMIN, then opens it as the user. Returns both ids.
 */
export async function openTillSession(
  p: TestPlatform,
  tenant: Pick<TenantFixture, 'adminToken'>,
  token: string,
  branchId: string,
  openingFloat = '0.00',
): Promise<{ tillId: string; sessionId: string }> {
  const till = await p.ok<{ createTill: { id: string } }>(
    `mutation($b: ID!, $n: String!) { createTill(branchId: $b, name: $n) { id } }`,
    { b: branchId, n: `Till ${randomBytes(3).toString('hex')}` },
    { token: tenant.adminToken },
  );
  const session = await p.ok<{ openTill: { id: string } }>(
    `mutation($input: OpenTillInput!) { openTill(input: $input) { id } }`,
    { input: { tillId: till.createTill.id, openingFloat } },
    { token },
  );
  return { tillId: till.createTill.id, sessionId: session.openTill.id };
}
