import { contractOperation, createTenant, LOGIN, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';
import { sql, tables } from '@umi/db';
import { createLogger } from '@umi/kit';
import { tenant } from '../../subgraphs/tenant/src/index';
import { provisionTenant } from '../../subgraphs/tenant/src/services/tenants';

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

describe('auth and provisioning', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  beforeAll(async () => {
    p = await startTestPlatform({ LOGIN_ATTEMPTS_PER_ACCOUNT: '5' });
    t = await createTenant(p, { plan: 'basic', branchCount: 1 });
  });
  afterAll(async () => {
    await p?.close();
  });

  const login = async (): Promise<Tokens> =>
    (await p.ok<{ login: Tokens }>(LOGIN, { email: t.adminEmail, password: t.adminPassword, tenant: t.subdomain })).login;
  const refresh = (token: string) => p.gql<{ refreshToken: Tokens }>(contractOperation('Refresh'), { refreshToken: token });

  it('revokes the whole family when a rotated refresh token is reused', async () => {
    const first = await login();
    const second = (await refresh(first.refreshToken)).data!.refreshToken;
    const reuse = await refresh(first.refreshToken);
    expect(reuse.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const successor = await refresh(second.refreshToken);
    expect(successor.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const other = await login();
    expect((await refresh(other.refreshToken)).errors).toBeUndefined();
  });

  it('lets exactly one of simultaneous refreshes with one token rotate it', async () => {
    const tokens = await login();
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(tokens.refreshToken)));
    expect(results.filter((r) => !r.errors).length).toBe(1);
  });

  it('hides whether an account exists and limits attempts per login field', async () => {
    const wrong = await p.gql(LOGIN, { email: t.adminEmail, password: 'wrong-password-123', tenant: t.subdomain });
    const unknown = await p.gql(LOGIN, { email: `nobody@${t.subdomain}.test`, password: 'wrong-password-123', tenant: t.subdomain });
    expect(wrong.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
    // Aliased guesses in one request: the first failure nulls the non-null payload and stops the
    // serial mutation, so a request buys at most one failed guess; every guess spends a token.
    const email = `victim@${t.subdomain}.test`;
    const aliases = Array.from({ length: 10 }, (_, i) => `a${i}: login(email: $e, password: $p, tenant: $t) { accessToken }`).join('\n');
    const storm = await p.gql(`mutation($e: String!, $p: String!, $t: String) { ${aliases} }`, { e: email, p: 'guess-password-1', t: t.subdomain });
    expect(storm.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const codes: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await p.gql(LOGIN, { email, password: `guess-password-${i}`, tenant: t.subdomain });
      codes.push(r.errors?.[0]?.extensions?.code);
    }
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
  });

  it('refuses bad input with stable codes and field paths', async () => {
    const auth = { token: t.adminToken };
    const shortPassword = await p.gql(contractOperation('CreateUser'), {
      input: { email: 'not-an-email', password: 'short', firstName: 'A', lastName: 'B', role: 'CASHIER', branchIds: [] },
    }, auth);
    expect(shortPassword.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const paths = (shortPassword.errors?.[0]?.extensions?.fields as { path: string }[]).map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['input.email', 'input.password', 'input.branchIds']));
    const superAdmin = await p.gql(contractOperation('CreateUser'), {
      input: { email: `s@${t.subdomain}.test`, password: 'Long-enough-pass-1', firstName: 'A', lastName: 'B', role: 'SUPER_ADMIN', branchIds: [] },
    }, auth);
    expect(superAdmin.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const planLimit = await p.gql(contractOperation('CreateBranch'), { input: { name: 'Second', code: 'B2' } }, auth);
    expect(planLimit.errors?.[0]?.extensions).toMatchObject({ code: 'PLAN_LIMIT_EXCEEDED', limit: 1 });
    const badCode = await p.gql(contractOperation('CreateBranch'), { input: { name: 'X', code: 'no spaces!' } }, auth);
    expect(badCode.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const op = { token: await p.loginSuperAdmin() };
    const base = { name: 'N', plan: 'basic', adminEmail: 'a@b.test', adminPassword: 'Long-enough-pass-1', adminFirstName: 'A', adminLastName: 'B' };
    for (const [input, code] of [
      [{ ...base, subdomain: 'Bad_Sub' }, 'BAD_USER_INPUT'],
      [{ ...base, subdomain: 'www' }, 'BAD_USER_INPUT'],
      [{ ...base, subdomain: 'valid-sub-x', plan: 'gold' }, 'BAD_USER_INPUT'],
      [{ ...base, subdomain: t.subdomain }, 'CONFLICT'],
    ] as const) {
      const r = await p.gql(contractOperation('CreateTenant'), { input }, op);
      expect([input.subdomain, r.errors?.[0]?.extensions?.code]).toEqual([input.subdomain, code]);
    }
    const { rows } = await p.db.pool.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'tenant_valid_sub_x'`);
    expect(rows[0].n).toBe(0);
  });

  it('provisions all or nothing: a failure at the last step leaves no tenant, schema or user', async () => {
    const deps = tenant.createDeps(p.env, createLogger('test', 'silent'));
    try {
      const ctx = await tenant.createContext(deps)({
        requestId: 'provision-fault', ip: null, userAgent: null, tenantHint: null, logger: deps.logger,
        principal: { userId: '00000000-0000-0000-0000-000000000001', email: 'op@test', role: 'SUPER_ADMIN', tenantId: null, tenantSubdomain: null, branchIds: [],
          permissions: { canViewAllBranches: false, canManageAllBranches: false, canTransferStock: false, canViewReports: [], canProcessSales: [] } },
      });
      const input = { name: 'Doomed', subdomain: 'doomed-chain', plan: 'basic', adminEmail: 'admin@doomed.test', adminPassword: 'Long-enough-pass-1', adminFirstName: 'A', adminLastName: 'B' };
      await expect(
        provisionTenant(ctx, input, {
          beforeCommit: async (tx) => {
            const seen = await tx.sql.one<{ n: number }>(sql`SELECT count(*)::int AS n FROM ${tables.tax_rates}`);
            expect(seen.n).toBeGreaterThan(0);
            throw new Error('disk full');
          },
        }),
      ).rejects.toThrow('disk full');
      const q = (text: string) => p.db.pool.query(text).then((r) => r.rows[0].n as number);
      expect(await q(`SELECT count(*)::int AS n FROM shared.tenants WHERE subdomain = 'doomed-chain'`)).toBe(0);
      expect(await q(`SELECT count(*)::int AS n FROM shared.users WHERE email = 'admin@doomed.test'`)).toBe(0);
      expect(await q(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'tenant_doomed_chain'`)).toBe(0);
      const id = await provisionTenant(ctx, input);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await q(`SELECT count(*)::int AS n FROM shared.users WHERE email = 'admin@doomed.test' AND role = 'ADMIN'`)).toBe(1);
      expect(await q(`SELECT count(*)::int AS n FROM tenant_doomed_chain.audit_logs WHERE entity_id = '${id}' AND correlation_id = 'provision-fault'`)).toBe(1);
    } finally {
      await deps.close();
    }
  });
});
