import { contractOperation, createTenant, startTestPlatform, SUPER_ADMIN, uniqueSubdomain, type TestPlatform } from '@umi/testkit';

/** The contract operations, sent verbatim as the portals send them, through the gateway. */
describe('contract: auth, tenants, branches, users', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform();
  });
  afterAll(async () => {
    await p?.close();
  });

  it('runs Login, Me, Refresh, Logout for a platform operator and a tenant user', async () => {
    const op = await p.ok<{ login: { accessToken: string; user: { role: string; branches: unknown[] } } }>(contractOperation('Login'), SUPER_ADMIN);
    expect(op.login.user).toMatchObject({ role: 'SUPER_ADMIN', branches: [] });
    const me = await p.ok<{ me: { role: string; tenant: unknown } }>(contractOperation('Me'), {}, { token: op.login.accessToken });
    expect(me.me).toMatchObject({ role: 'SUPER_ADMIN', tenant: null });

    const t = await createTenant(p, { branchCount: 1 });
    const login = await p.ok<{ login: { accessToken: string; refreshToken: string; expiresIn: number; user: { email: string; role: string } } }>(
      contractOperation('Login'),
      { email: t.adminEmail, password: t.adminPassword, tenant: t.subdomain },
    );
    expect(login.login.expiresIn).toBe(3600);
    expect(login.login.user).toMatchObject({ email: t.adminEmail, role: 'ADMIN' });
    const adminMe = await p.ok<{ me: { tenant: { subdomain: string; plan: string }; branches: unknown[] } }>(contractOperation('Me'), {}, { token: login.login.accessToken });
    expect(adminMe.me.tenant).toMatchObject({ subdomain: t.subdomain, plan: 'professional' });

    const refreshed = await p.ok<{ refreshToken: { accessToken: string; refreshToken: string; expiresIn: number } }>(contractOperation('Refresh'), {
      refreshToken: login.login.refreshToken,
    });
    expect(refreshed.refreshToken.refreshToken).not.toBe(login.login.refreshToken);
    const meAgain = await p.ok<{ me: { email: string } }>(contractOperation('Me'), {}, { token: refreshed.refreshToken.accessToken });
    expect(meAgain.me.email).toBe(t.adminEmail);

    const out = await p.ok<{ logout: boolean }>(contractOperation('Logout'), { refreshToken: refreshed.refreshToken.refreshToken });
    expect(out.logout).toBe(true);
    const after = await p.gql(contractOperation('Refresh'), { refreshToken: refreshed.refreshToken.refreshToken });
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('runs CreateTenant and Tenants for the platform operator, with counts', async () => {
    const token = await p.loginSuperAdmin();
    const subdomain = uniqueSubdomain('chain');
    const created = await p.ok<{ createTenant: Record<string, unknown> }>(
      contractOperation('CreateTenant'),
      { input: { name: 'Chain Pharmacies', subdomain, plan: 'basic', adminEmail: `a@${subdomain}.test`, adminPassword: 'A-very-long-pass-1', adminFirstName: 'A', adminLastName: 'B' } },
      { token },
    );
    expect(created.createTenant).toMatchObject({ name: 'Chain Pharmacies', subdomain, status: 'active', plan: 'basic', maxBranches: 1, maxUsers: 10 });
    const list = await p.ok<{ tenants: { subdomain: string; branchCount: number; userCount: number }[] }>(contractOperation('Tenants'), {}, { token });
    expect(list.tenants.find((x) => x.subdomain === subdomain)).toMatchObject({ branchCount: 0, userCount: 1 });
  });

  it('runs CreateBranch, Branches, CreateUser, Users for a tenant admin', async () => {
    const t = await createTenant(p, { branchCount: 0 });
    const auth = { token: t.adminToken };
    const b = await p.ok<{ createBranch: { id: string; code: string; isActive: boolean } }>(
      contractOperation('CreateBranch'),
      { input: { name: 'Cairo Road', code: 'lsk01', address: 'Cairo Road, Lusaka', phone: '+260211000000', licenseNumber: 'ZAMRA-123' } },
      auth,
    );
    expect(b.createBranch).toMatchObject({ code: 'LSK01', isActive: true });
    const branches = await p.ok<{ branches: { code: string }[] }>(contractOperation('Branches'), {}, auth);
    expect(branches.branches.map((x) => x.code)).toEqual(['LSK01']);
    const u = await p.ok<{ createUser: { role: string; isActive: boolean; branches: { id: string; code: string }[] } }>(
      contractOperation('CreateUser'),
      {
        input: {
          email: `Cashier@${t.subdomain}.test`, password: 'Cashier-password-1', firstName: 'C', lastName: 'D', role: 'CASHIER',
          branchIds: [b.createBranch.id], permissions: { canProcessSales: [b.createBranch.id] },
        },
      },
      auth,
    );
    expect(u.createUser).toMatchObject({ role: 'CASHIER', isActive: true, branches: [{ id: b.createBranch.id, code: 'LSK01' }] });
    const users = await p.ok<{ users: { email: string; role: string }[] }>(contractOperation('Users'), {}, auth);
    expect(users.users.map((x) => [x.email, x.role])).toEqual([
      [t.adminEmail, 'ADMIN'],
      [`cashier@${t.subdomain}.test`, 'CASHIER'],
    ]);
  });
});
