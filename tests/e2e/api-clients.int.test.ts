import { contractOperation as op, createTenant, createUser, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const CREATE = `mutation($input: CreateApiClientInput!) { createApiClient(input: $input) { clientSecret client { id clientId name scopes revokedAt } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiClient(id: $id) { id revokedAt } }`;
const PRODUCTS = `query { products(first: 5) { edges { node { id sku name } } } }`;

interface Created {
  createApiClient: { clientSecret: string; client: { id: string; clientId: string; name: string; scopes: string[]; revokedAt: string | null } };
}

/** Partners' machine-to-machine access: API clients, client credentials, scopes, revocation, audit. */
describe('API clients', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let tokenUrl: string;
  beforeAll(async () => {
    p = await startTestPlatform();
    t = await createTenant(p, { branchCount: 1 });
    tokenUrl = p.url.replace(/\/graphql$/, '/oauth/token');
    await p.ok(op('CreateProduct'), { input: { sku: 'API-1', name: 'Amoxicillin 500mg', requiresPrescription: false, controlledSubstance: false } }, { token: t.adminToken });
  });
  afterAll(async () => {
    await p?.close();
  });

  const exchange = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString() });

  it('an ADMIN creates a client, whose secret is exchanged for a short-lived token that reads within its scopes only; revoking stops it at once', async () => {
    const cashier = await createUser(p, t, 'CASHIER', [t.branches[0]!.id]);
    const refused = await p.gql(CREATE, { input: { name: 'ERP', scopes: ['CATALOGUE_READ'] } }, { token: cashier.token });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const created = (await p.ok<Created>(CREATE, { input: { name: 'Acme ERP', scopes: ['CATALOGUE_READ', 'STOCK_READ'] } }, { token: t.adminToken })).createApiClient;
    expect(created.client).toMatchObject({ name: 'Acme ERP', scopes: ['CATALOGUE_READ', 'STOCK_READ'], revokedAt: null });
    expect(created.clientSecret).toMatch(/^ucs_/);
    const listed = await p.ok<{ apiClients: Record<string, unknown>[] }>(`{ apiClients { clientId scopes } }`, {}, { token: t.adminToken });
    expect(listed.apiClients).toEqual([{ clientId: created.client.clientId, scopes: ['CATALOGUE_READ', 'STOCK_READ'] }]);
    expect(JSON.stringify(listed)).not.toContain(created.clientSecret);

    // Wrong secret, wrong grant: OAuth2 errors.
    const wrong = await exchange({ grant_type: 'client_credentials', client_id: created.client.clientId, client_secret: 'ucs_not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'invalid_client' });
    expect((await exchange({ grant_type: 'password', client_id: created.client.clientId, client_secret: created.clientSecret })).status).toBe(400);

    // Form body, HTTP Basic and JSON all work.
    const issued = await exchange({ grant_type: 'client_credentials', client_id: created.client.clientId, client_secret: created.clientSecret });
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    const token = (await issued.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(token).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'catalogue:read stock:read' });
    const basic = await exchange({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${created.client.clientId}:${created.clientSecret}`).toString('base64')}` });
    expect(basic.status).toBe(200);
    const json = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: created.client.clientId, client_secret: created.clientSecret }) });
    expect(json.status).toBe(200);

    const bearer = { token: token.access_token };
    const products = await p.ok<{ products: { edges: { node: { sku: string } }[] } }>(PRODUCTS, {}, bearer);
    expect(products.products.edges.map((e) => e.node.sku)).toEqual(['API-1']);
    const branchStock = await p.gql(`query($id: ID!) { branch(id: $id) { id stock { quantityAvailable } } }`, { id: t.branches[0]!.id }, bearer);
    expect(branchStock.errors).toBeUndefined();

    // Outside its scopes: sales, stock receipts, users are refused before anything runs.
    const sales = await p.gql(`query($b: ID!) { sales(branchId: $b, first: 5) { edges { node { id } } } }`, { b: t.branches[0]!.id }, bearer);
    expect(sales.status).toBe(403);
    expect(sales.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SCOPE_MISSING', refused: ['Query.sales'] });
    const receive = await p.gql(op('ReceiveStock'), { input: { branchId: t.branches[0]!.id, productId: 'x', batchNumber: 'B', expiryDate: '2099-01-01', quantity: 1, costPrice: '1.00', sellingPrice: '2.00' } }, bearer);
    expect(receive.errors?.[0]?.extensions?.reason).toBe('SCOPE_MISSING');
    const users = await p.gql(`{ users { id email } }`, {}, bearer);
    expect(users.errors?.[0]?.extensions?.refused).toEqual(['Query.users']);
    const createAgain = await p.gql(CREATE, { input: { name: 'Escalate', scopes: ['SALES_READ'] } }, bearer);
    expect(createAgain.errors?.[0]?.extensions?.reason).toBe('SCOPE_MISSING');

    // Revoked: the token already issued fails on its next request, and no new one is issued.
    const revoked = await p.ok<{ revokeApiClient: { revokedAt: string | null } }>(REVOKE, { id: created.client.id }, { token: t.adminToken });
    expect(revoked.revokeApiClient.revokedAt).toEqual(expect.any(String));
    const after = await p.gql(PRODUCTS, {}, bearer);
    expect(after.data?.products ?? null).toBeNull();
    expect(after.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'API_CLIENT_REVOKED' });
    expect((await exchange({ grant_type: 'client_credentials', client_id: created.client.clientId, client_secret: created.clientSecret })).status).toBe(401);

    // Every step is in the tenant's audit trail.
    const audit = await p.ok<{ auditLogs: { edges: { node: { action: string; entityId: string } }[] } }>(
      `{ auditLogs(entityType: "ApiClient", first: 20) { edges { node { action entityId } } } }`,
      {},
      { token: t.adminToken },
    );
    const actions = audit.auditLogs.edges.filter((e) => e.node.entityId === created.client.id).map((e) => e.node.action);
    expect(actions.sort()).toEqual(['CREATE', 'REVOKE', 'TOKEN_ISSUED', 'TOKEN_ISSUED', 'TOKEN_ISSUED']);
  });
});
