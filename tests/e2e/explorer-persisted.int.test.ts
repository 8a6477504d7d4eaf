import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@umi/platform';
import { contractOperation, createTenant, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The trusted-operations manifest `npm run generate` writes: sha256 -> document. */
function manifestHashOf(operationName: string): { hash: string; document: string } {
  const raw = JSON.parse(readFileSync(join(ROOT, 'clients/src/generated/typed/persisted-documents.json'), 'utf8')) as Record<string, string>;
  const hit = Object.entries(raw).find(([, doc]) => new RegExp(`^(query|mutation|subscription) ${operationName}\\b`).test(doc));
  if (!hit) throw new Error(`${operationName} is not in the manifest`);
  return { hash: hit[0].replace(/^sha256:/, ''), document: hit[1] };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('GraphiQL, persisted and trusted operations', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  beforeAll(async () => {
    p = await startTestPlatform({ MANIFEST_ONLY_CLIENTS: 'umi-admin,umi-dashboard' });
    t = await createTenant(p, { branchCount: 1 });
  });
  afterAll(async () => {
    await p?.close();
  });

  it('serves the bundled GraphiQL to browsers on GET /graphql, with the portal operations as examples and no CDN', async () => {
    const page = await fetch(p.url, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/explorer/graphiql.js');
    expect(html).not.toMatch(/https?:\/\//);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const base = p.url.replace(/\/graphql$/, '');
    const js = await fetch(`${base}/explorer/graphiql.js`);
    expect(js.status).toBe(200);
    const bundle = await js.text();
    expect(bundle).toContain('mutation Login(');
    expect(bundle).toContain('subscription SaleCompleted(');
    expect((await fetch(`${base}/explorer/graphiql.css`)).status).toBe(200);
    // A GraphQL client's GET is still GraphQL.
    const api = await fetch(`${p.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
    expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('APQ: an unknown hash is PERSISTED_QUERY_NOT_FOUND, then the hash with its document registers it, then the hash alone runs it', async () => {
    const query = `query ApqRoundTrip { me { id email } } # ${Date.now()}`;
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    const headers = { authorization: `Bearer ${t.adminToken}` };
    const miss = await post(p.url, { extensions: { persistedQuery } }, headers);
    expect(miss.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await post(p.url, { query, extensions: { persistedQuery } }, headers);
    expect(register.body.data).toEqual({ me: { id: expect.any(String), email: t.adminEmail } });
    const hit = await post(p.url, { extensions: { persistedQuery } }, headers);
    expect(hit.body).toEqual(register.body);
    const wrong = await post(p.url, { query: '{ me { id } }', extensions: { persistedQuery } }, headers);
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'PERSISTED_QUERY_HASH_MISMATCH' });
  });

  it('manifest-only clients: a hash of the manifest runs, an unknown document is refused; partners still send documents', async () => {
    const me = manifestHashOf('Me');
    const admin = { authorization: `Bearer ${t.adminToken}`, 'apollographql-client-name': 'umi-admin' };
    const byHash = await post(p.url, { extensions: { persistedQuery: { version: 1, sha256Hash: me.hash } } }, admin);
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data?.me).toMatchObject({ email: t.adminEmail, role: 'ADMIN' });
    // The manifest's own text is accepted in full too.
    expect((await post(p.url, { query: me.document }, admin)).body.data?.me).toMatchObject({ email: t.adminEmail });

    const unknown = await post(p.url, { query: '{ me { id email tenant { id } } }' }, admin);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0]?.extensions).toEqual({ code: 'PERSISTED_QUERY_NOT_ALLOWED', reason: 'OPERATION_NOT_IN_MANIFEST' });
    const unknownHash = await post(p.url, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ me { id } }') } } }, admin);
    expect(unknownHash.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    // The portal's contract text (a printed copy of the same operation) is not the manifest's bytes: refused too.
    expect(sha256(contractOperation('Me'))).not.toBe(me.hash);

    const partner = await post(p.url, { query: '{ me { id email tenant { id } } }' }, { authorization: `Bearer ${t.adminToken}`, 'apollographql-client-name': 'acme-erp' });
    expect(partner.body.data?.me).toMatchObject({ email: t.adminEmail });
  });
});

describe('production: GraphiQL off, introspection and the SDL for signed-in callers only', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  beforeAll(async () => {
    p = await startTestPlatform({ NODE_ENV: 'production' });
    t = await createTenant(p, { branchCount: 1 });
  });
  afterAll(async () => {
    await p?.close();
  });

  it('serves no GraphiQL', async () => {
    const page = await fetch(p.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('graphiql');
    expect((await fetch(p.url.replace(/\/graphql$/, '/explorer/graphiql.js'))).status).toBe(404);
  });

  it('refuses anonymous introspection and answers it with a token', async () => {
    const introspect = '{ __schema { queryType { name } } __type(name: "Product") { fields { name description } } }';
    const anonymous = await post(p.url, { query: introspect });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INTROSPECTION_REQUIRES_TOKEN' });
    expect(anonymous.body.data ?? null).toBeNull();
    // Plain queries stay anonymous-friendly (login needs that).
    expect((await post(p.url, { query: '{ __typename }' })).body).toEqual({ data: { __typename: 'Query' } });

    const signedIn = await post(p.url, { query: introspect }, { authorization: `Bearer ${t.adminToken}` });
    expect(signedIn.body.errors).toBeUndefined();
    const fields = (signedIn.body.data?.__type as { fields: { name: string; description: string | null }[] }).fields;
    expect(fields.find((f) => f.name === 'sku')?.description).toMatch(/unique within the tenant/);
  });

  it('lets signed-in callers download the composed SDL at /schema.graphql', async () => {
    const url = p.url.replace(/\/graphql$/, '/schema.graphql');
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(res.status).toBe(200);
    const sdl = await res.text();
    expect(sdl).toMatch(/type Query \{/);
    expect(sdl).toContain('saleCompleted(');
    expect(sdl).not.toMatch(/@join__|_entities/);
  });
});

describe('GraphiQL in production with GRAPHIQL=true', () => {
  let p: TestPlatform;
  afterAll(async () => {
    await p?.close();
  });

  it('is served when the setting turns it on', async () => {
    p = await startTestPlatform({ NODE_ENV: 'production', GRAPHIQL: 'true' });
    expect(await (await fetch(p.url, { headers: { accept: 'text/html' } })).text()).toContain('/explorer/graphiql.js');
  });
});
