import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createInternalTokens, INTERNAL_HEADER } from '@umi/kit';
import { contractOperation, createTenant, createUser, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

/** fetch may not set Host; the portals reach tenants by subdomain, so send it the raw way. */
function postWithHost(url: string, host: string, token: string, query: string): Promise<{ errors?: { extensions?: { code?: string } }[] }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { host, 'content-type': 'application/json', authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

const BRANCH = 'query($id: ID!) { branch(id: $id) { id code } }';

describe('tenant isolation and the subgraphs’ trust boundary', () => {
  let p: TestPlatform;
  let a: TenantFixture;
  let b: TenantFixture;
  beforeAll(async () => {
    p = await startTestPlatform();
    [a, b] = await Promise.all([createTenant(p), createTenant(p)]);
  });
  afterAll(async () => {
    await p?.close();
  });

  it('never shows tenant A’s rows to tenant B’s valid token', async () => {
    const read = await p.gql<{ branch: unknown }>(BRANCH, { id: a.branches[0]!.id }, { token: b.adminToken });
    expect(read.errors).toBeUndefined();
    expect(read.data?.branch).toBeNull();
    const branches = await p.ok<{ branches: { id: string }[] }>(contractOperation('Branches'), {}, { token: b.adminToken });
    expect(branches.branches.map((x) => x.id).sort()).toEqual(b.branches.map((x) => x.id).sort());
    const users = await p.ok<{ users: { email: string }[] }>(contractOperation('Users'), {}, { token: b.adminToken });
    expect(users.users.every((u) => u.email.endsWith(`@${b.subdomain}.test`))).toBe(true);
  });

  it('refuses writes that reference another tenant’s rows', async () => {
    const r = await p.gql(contractOperation('CreateUser'), {
      input: { email: `x@${b.subdomain}.test`, password: 'Long-enough-pass-1', firstName: 'X', lastName: 'Y', role: 'CASHIER', branchIds: [a.branches[0]!.id] },
    }, { token: b.adminToken });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const count = await p.db.pool.query('SELECT count(*)::int AS n FROM shared.user_branches WHERE branch_id = $1', [a.branches[0]!.id]);
    expect(count.rows[0].n).toBe(0);
  });

  it('forbids a token of tenant A that names tenant B by header or host', async () => {
    const byHeader = await p.gql(contractOperation('Me'), {}, { token: a.adminToken, headers: { 'x-tenant-id': b.subdomain } });
    expect(byHeader.status).toBe(403);
    expect(byHeader.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const byId = await p.gql(contractOperation('Me'), {}, { token: a.adminToken, headers: { 'x-tenant-id': b.id } });
    expect(byId.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const byHost = await postWithHost(p.url, `${b.subdomain}.umihealth.com`, a.adminToken, contractOperation('Me'));
    expect(byHost.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ownHost = await postWithHost(p.url, `${a.subdomain}.umihealth.com`, a.adminToken, contractOperation('Me'));
    expect(ownHost.errors).toBeUndefined();
    const own = await p.gql(contractOperation('Me'), {}, { token: a.adminToken, headers: { 'x-tenant-id': a.subdomain } });
    expect(own.errors).toBeUndefined();
  });

  it('keeps a login inside the tenant it names', async () => {
    const wrongTenant = await p.gql(contractOperation('Login'), { email: a.adminEmail, password: a.adminPassword, tenant: b.subdomain });
    expect(wrongTenant.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const viaHeader = await p.gql(contractOperation('Login'), { email: a.adminEmail, password: a.adminPassword }, { headers: { 'x-tenant-id': a.subdomain } });
    expect(viaHeader.errors).toBeUndefined();
    const mismatch = await p.gql(contractOperation('Login'), { email: a.adminEmail, password: a.adminPassword, tenant: a.subdomain }, { headers: { 'x-tenant-id': b.subdomain } });
    expect(mismatch.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  describe('requests sent straight to a subgraph', () => {
    const entities = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Branch { id code } } }';
    const post = (url: string, headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] } }),
      );

    it('get nothing without the gateway’s token, whatever headers they forge', async () => {
      const url = p.env.TENANT_URL!;
      const forged: Record<string, string>[] = [
        {},
        { 'x-tenant-id': a.subdomain },
        { authorization: `Bearer ${a.adminToken}` },
        { [INTERNAL_HEADER]: 'forged' },
      ];
      for (const headers of forged) {
        const r = await post(url, headers, entities, { r: [{ __typename: 'Branch', id: a.branches[0]!.id }] });
        expect(r.body.data ?? null).toBeNull();
        expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
    });

    it('refuse a token signed with another key or for another subgraph', async () => {
      const claims = { rid: 'forged-request', ip: null, ua: null, th: null, usr: null };
      const wrongKey = await createInternalTokens(randomBytes(32).toString('hex'), 60).sign(claims, 'tenant');
      const otherAudience = await createInternalTokens(p.env.INTERNAL_JWT_SECRET, 60).sign(claims, 'pharmacy');
      for (const token of [wrongKey, otherAudience]) {
        const r = await post(p.env.TENANT_URL!, { [INTERNAL_HEADER]: token }, '{ me { id } }');
        expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
      for (const url of [p.env.PHARMACY_URL!, p.env.INVENTORY_URL!, p.env.POS_URL!]) {
        const r = await post(url, {}, '{ _service { sdl } }');
        expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
    });

    it('resolve entities only within the caller’s tenant, under graphql-shield', async () => {
      const tokens = createInternalTokens(p.env.INTERNAL_JWT_SECRET, 60);
      const me = await p.ok<{ me: { id: string } }>('{ me { id } }', {}, { token: b.adminToken });
      const usr = {
        userId: me.me.id, email: b.adminEmail, role: 'ADMIN' as const, tenantId: b.id, tenantSubdomain: b.subdomain, branchIds: [],
        permissions: { canViewAllBranches: false, canManageAllBranches: false, canTransferStock: false, canViewReports: [], canProcessSales: [] },
      };
      const token = await tokens.sign({ rid: 'entities-test', ip: null, ua: null, th: null, usr }, 'tenant');
      const r = await post(p.env.TENANT_URL!, { [INTERNAL_HEADER]: token }, entities, {
        r: [{ __typename: 'Branch', id: b.branches[0]!.id }, { __typename: 'Branch', id: a.branches[0]!.id }],
      });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data).toEqual({ _entities: [{ id: b.branches[0]!.id, code: b.branches[0]!.code }, null] });
      const anonymous = await tokens.sign({ rid: 'entities-anon', ip: null, ua: null, th: null, usr: null }, 'tenant');
      const denied = await post(p.env.TENANT_URL!, { [INTERNAL_HEADER]: anonymous }, entities, { r: [{ __typename: 'Branch', id: b.branches[0]!.id }] });
      expect(denied.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  it('keeps branch-scoped roles to their branches', async () => {
    const cashier = await createUser(p, a, 'CASHIER', [a.branches[0]!.id]);
    const own = await p.gql(BRANCH, { id: a.branches[0]!.id }, { token: cashier.token });
    expect(own.errors).toBeUndefined();
    const other = await p.gql(BRANCH, { id: a.branches[1]!.id }, { token: cashier.token });
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const users = await p.gql(contractOperation('Users'), {}, { token: cashier.token });
    expect(users.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const create = await p.gql(contractOperation('CreateBranch'), { input: { name: 'X', code: 'X1' } }, { token: cashier.token });
    expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const tenants = await p.gql(contractOperation('Tenants'), {}, { token: a.adminToken });
    expect(tenants.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await p.gql(contractOperation('Users'));
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('writes an audit row with the request’s correlation id in the same transaction as the change', async () => {
    const requestId = `audit-${randomBytes(6).toString('hex')}`;
    const created = await p.ok<{ createBranch: { id: string } }>(contractOperation('CreateBranch'), { input: { name: 'Audited', code: 'AUD1' } }, {
      token: a.adminToken,
      headers: { 'x-request-id': requestId, 'user-agent': 'umi-test-agent' },
    });
    const schema = `tenant_${a.subdomain.replace(/-/g, '_')}`;
    const rows = await p.db.pool.query(`SELECT action, entity_type, entity_id, user_agent, new_values FROM "${schema}".audit_logs WHERE correlation_id = $1`, [requestId]);
    expect(rows.rows).toEqual([
      expect.objectContaining({ action: 'CREATE', entity_type: 'Branch', entity_id: created.createBranch.id, user_agent: 'umi-test-agent', new_values: expect.objectContaining({ code: 'AUD1' }) }),
    ]);
    const log = await p.ok<{ auditLogs: { edges: { node: { entityId: string; user: { email: string } } }[] } }>(
      contractOperation('AuditLog'),
      { entityType: 'Branch', first: 1 },
      { token: a.adminToken },
    );
    expect(log.auditLogs.edges[0]?.node).toMatchObject({ entityId: created.createBranch.id, user: { email: a.adminEmail } });
  });
});
