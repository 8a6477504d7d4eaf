/**
 * The outside audit's findings (issue 13, "The audit's findings"), each through the real gateway,
 * subgraphs and graphql-ws: a test per finding that failed on the code before the fix.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { createAccessTokens, createInternalTokens, type Principal } from '@umi/kit';
import { contractOperation as op, createTenant, LOGIN, startTestPlatform, wsUrl, type TenantFixture, type TestPlatform } from '@umi/testkit';

interface WsMessage {
  type: string;
  id?: string;
  payload?: unknown;
}

/** A bare graphql-transport-ws socket: what an attacker (or a careless client) sends, message by message. */
function rawSocket(url: string) {
  const socket = new WebSocket(wsUrl(url), 'graphql-transport-ws');
  const messages: WsMessage[] = [];
  const waiters: (() => void)[] = [];
  let closed: { code: number; reason: string } | null = null;
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as WsMessage);
    wake();
  });
  socket.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    wake();
  });
  socket.on('error', () => {});
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  function until<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages)} closed ${JSON.stringify(closed)}`)), ms);
      const test = () => {
        const v = check();
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
        } else waiters.push(test);
      };
      test();
    });
  }
  return {
    socket,
    messages,
    opened,
    send: (m: WsMessage) => socket.send(JSON.stringify(m)),
    closed: (ms = 10_000) => until(() => closed ?? undefined, ms, 'close'),
    message: (pred: (m: WsMessage) => boolean, ms = 10_000) => until(() => messages.find(pred), ms, 'message'),
    async init(token: string) {
      await opened;
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      await until(() => messages.find((m) => m.type === 'connection_ack'), 10_000, 'connection_ack');
    },
    close: () => socket.terminate(),
  };
}

type WsErrors = { message: string; extensions?: { code?: string } }[];
const errorsOf = (m: WsMessage) => m.payload as WsErrors;

/** A signed-in tenant user of its own tenant (no fixture needed): a fresh rate-limit bucket. */
function principal(): Principal {
  return {
    userId: randomUUID(),
    email: 'someone@audit.test',
    role: 'ADMIN',
    tenantId: randomUUID(),
    tenantSubdomain: null,
    branchIds: [],
    permissions: { canViewAllBranches: true, canManageAllBranches: false, canTransferStock: false, canViewReports: [], canProcessSales: [] },
  };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('the audit’s findings', () => {
  let p: TestPlatform;
  let t: TenantFixture;

  beforeAll(async () => {
    p = await startTestPlatform({
      LOGIN_ATTEMPTS_PER_ACCOUNT: '3',
      WS_MAX_MESSAGES_PER_MINUTE: '30',
      WS_MAX_UNAUTHENTICATED_PER_IP: '3',
      WS_CONNECTION_INIT_TIMEOUT_MS: '8000',
    });
    t = await createTenant(p, { branchCount: 1 });
  });
  afterAll(async () => {
    await p?.close();
  });

  it('2. closes a connection that floods messages, and refuses too many pending handshakes per IP', async () => {
    const flood = rawSocket(p.url);
    await flood.init(t.adminToken);
    for (let i = 0; i < 60 && flood.socket.readyState === WebSocket.OPEN; i++) flood.send({ type: 'ping' });
    expect(await flood.closed()).toMatchObject({ code: 4429 });

    const waiting = [rawSocket(p.url), rawSocket(p.url), rawSocket(p.url)];
    await Promise.all(waiting.map((w) => w.opened));
    const fourth = rawSocket(p.url);
    const started = Date.now();
    expect(await fourth.closed(5000)).toMatchObject({ code: 4429 });
    // Refused at once, not by the 8 s handshake timeout.
    expect(Date.now() - started).toBeLessThan(4000);
    for (const w of waiting) w.close();
    // Once they are gone, the IP may connect again.
    const again = rawSocket(p.url);
    await again.init(t.adminToken);
    again.close();
  });

  it('3. limits login attempts per tenant and normalised email, however the tenant is spelled', async () => {
    const headers = { 'x-forwarded-for': '10.3.0.1' };
    const attempt = (tenant: string, email = t.adminEmail) => p.gql(LOGIN, { email, password: 'Wrong-Password-123', tenant }, { headers });
    for (let i = 0; i < 3; i++) expect((await attempt(t.subdomain)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const [tenant, email] of [
      [t.subdomain.toUpperCase(), t.adminEmail],
      [` ${t.subdomain} `, t.adminEmail],
      [t.id, t.adminEmail],
      [t.id.toUpperCase(), ` ${t.adminEmail.toUpperCase()} `],
    ] as const) {
      const r = await attempt(tenant, email);
      expect({ tenant, code: r.errors?.[0]?.extensions?.code }).toEqual({ tenant, code: 'TOO_MANY_REQUESTS' });
    }
  });

  it('4. answers body-parser errors as JSON GraphQL errors without internals, at the gateway and the subgraphs', async () => {
    const subgraph = p.env.POS_URL!;
    for (const [url, big] of [
      [p.url, 300 * 1024],
      [subgraph, 3 * 1024 * 1024],
    ] as const) {
      const malformed = await post(url, '{"query": "{ __typename }",');
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toMatch(/application\/json/);
      const text = await malformed.text();
      expect(JSON.parse(text)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }] });
      expect(text).not.toMatch(/node_modules|\/work\/|at \w+ \(|<html|<pre/i);

      const tooLarge = await post(url, JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(big) } }));
      expect(tooLarge.status).toBe(413);
      const body = await tooLarge.text();
      expect(JSON.parse(body)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      expect(body).not.toMatch(/node_modules|\/work\/|at \w+ \(|<html|<pre/i);
    }
  });

  it('6. gives no "Did you mean" suggestions, over HTTP variables or WebSocket validation', async () => {
    const coercion = await p.gql('mutation($input: CreateSaleInput!) { createSale(input: $input) { id } }', {
      input: { branchIdd: t.branches[0]!.id, paymentMethod: 'CAS', idempotencyKey: randomUUID(), items: [] },
    }, { token: t.adminToken });
    expect(coercion.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(coercion.errors)).not.toMatch(/Did you mean/i);

    const ws = rawSocket(p.url);
    await ws.init(t.adminToken);
    ws.send({ id: 'v', type: 'subscribe', payload: { query: 'subscription { saleCompleted { totalAmout } }' } });
    const invalid = await ws.message((m) => m.id === 'v');
    expect(invalid.type).toBe('error');
    expect(errorsOf(invalid)[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(invalid)).not.toMatch(/Did you mean/i);
    ws.close();
  });

  it('7. refuses NUL bytes, forged cursors and long X-Tenant-ID as BAD_USER_INPUT', async () => {
    const search = await p.gql('query($s: String) { products(search: $s, first: 5) { edges { node { id } } } }', { s: 'a\u0000b' }, { token: t.adminToken });
    expect(search.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const literal = await p.gql('{ products(search: "a\\u0000b", first: 5) { edges { node { id } } } }', {}, { token: t.adminToken });
    expect(literal.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const login = await p.gql(LOGIN, { email: t.adminEmail, password: 'Wrong-Password-123', tenant: `${t.subdomain}\u0000` }, { headers: { 'x-forwarded-for': '10.7.0.1' } });
    expect(login.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const forged = Buffer.from(JSON.stringify(['Aspirin', 'not-a-uuid'])).toString('base64url');
    const cursor = await p.gql('query($a: String) { products(first: 5, after: $a) { edges { node { id } } } }', { a: forged }, { token: t.adminToken });
    expect(cursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const sales = await p.gql('query($b: ID!, $a: String) { sales(branchId: $b, first: 5, after: $a) { edges { node { id } } } }', {
      b: t.branches[0]!.id,
      a: Buffer.from(JSON.stringify([new Date().toISOString(), 'x'])).toString('base64url'),
    }, { token: t.adminToken });
    expect(sales.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const header = await p.gql(LOGIN, { email: t.adminEmail, password: 'Wrong-Password-123' }, { headers: { 'x-tenant-id': 'a'.repeat(200), 'x-forwarded-for': '10.7.0.2' } });
    expect(header.status).toBe(400);
    expect(header.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('8. answers a subscription whose root selection is a fragment with a clean error', async () => {
    const ws = rawSocket(p.url);
    await ws.init(t.adminToken);
    ws.send({ id: 'f', type: 'subscribe', payload: { query: 'subscription { ...S } fragment S on Subscription { saleCompleted { id } }' } });
    ws.send({ id: 'i', type: 'subscribe', payload: { query: 'subscription { ... on Subscription { saleCompleted { id } } }' } });
    for (const id of ['f', 'i']) {
      const m = await ws.message((x) => x.id === id);
      expect(m.type).toBe('error');
      expect(errorsOf(m)[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    // The connection survives (no 4500).
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('9. treats % and _ in product search as literal characters', async () => {
    for (const [sku, name] of [
      ['LK-1', 'A_C Syrup'],
      ['LK-2', 'ABC Tablets'],
      ['LK-3', '%Off Cream'],
      ['LK-4', 'Zinc 100mg'],
    ]) {
      await p.ok(op('CreateProduct'), { input: { sku, name, requiresPrescription: false, controlledSubstance: false } }, { token: t.adminToken });
    }
    const names = async (s: string) =>
      (await p.ok<{ products: { edges: { node: { name: string } }[] } }>('query($s: String) { products(search: $s, first: 50) { edges { node { name } } } }', { s }, { token: t.adminToken })).products.edges
        .map((e) => e.node.name)
        .sort();
    expect(await names('A_C')).toEqual(['A_C Syrup']);
    expect(await names('%')).toEqual(['%Off Cream']);
    expect(await names('_')).toEqual([]);
    expect(await names('a')).toEqual(['A_C Syrup', 'ABC Tablets'].sort());
  });

  it('10. sends nosniff and no-store, and refuses tokens from the future or with a lifetime beyond the TTL', async () => {
    const res = await post(p.url, JSON.stringify({ query: LOGIN, variables: { email: t.adminEmail, password: t.adminPassword, tenant: t.subdomain } }), { 'x-forwarded-for': '10.10.0.1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const health = await fetch(p.url.replace(/\/graphql$/, '/healthz'));
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');

    const { principal: me } = await createAccessTokens({ secret: p.env.JWT_SECRET, issuer: p.env.JWT_ISSUER, audience: p.env.JWT_AUDIENCE, ttlSeconds: p.env.ACCESS_TOKEN_TTL_SECONDS }).verify(t.adminToken);
    const key = new TextEncoder().encode(p.env.JWT_SECRET);
    const now = Math.floor(Date.now() / 1000);
    const forge = (iat: number, exp: number) =>
      new SignJWT({ email: me.email, role: me.role, tid: me.tenantId, tsd: me.tenantSubdomain, br: me.branchIds, perm: me.permissions })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(me.userId)
        .setIssuer(p.env.JWT_ISSUER)
        .setAudience(p.env.JWT_AUDIENCE)
        .setIssuedAt(iat)
        .setJti(randomUUID())
        .setExpirationTime(exp)
        .sign(key);
    const fine = await p.gql('{ me { id } }', {}, { token: await forge(now, now + 600) });
    expect(fine.errors).toBeUndefined();
    for (const token of [await forge(now + 86_400, now + 86_400 + 600), await forge(now, now + 10 * 365 * 86_400)]) {
      const r = await p.gql('{ me { id } }', {}, { token });
      expect(r.status).toBe(401);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }

    // A request with an internal token for another subgraph: refused as 401, not a 500.
    const internal = createInternalTokens(p.env.INTERNAL_JWT_SECRET, 60);
    const wrongAudience = await internal.sign({ rid: 'audit-test-1', ip: null, ua: null, usr: me, th: null }, 'tenant');
    const refused = await post(p.env.POS_URL!, JSON.stringify({ query: '{ __typename }' }), { 'x-umi-internal': wrongAudience });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { errors: WsErrors }).errors[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('the audit’s findings under tight rate limits', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    // One token a minute refills nothing during the test: counts are exact however slow the machine.
    p = await startTestPlatform({ RATE_LIMIT_BURST: '5', RATE_LIMIT_PER_MINUTE: '1' });
  });
  afterAll(async () => {
    await p?.close();
  });
  const tokens = () => createAccessTokens({ secret: p.env.JWT_SECRET, issuer: p.env.JWT_ISSUER, audience: p.env.JWT_AUDIENCE, ttlSeconds: p.env.ACCESS_TOKEN_TTL_SECONDS });

  it('2. charges a subscribe before parsing or validating it', async () => {
    const ws = rawSocket(p.url);
    await ws.init(await tokens().sign(principal())); // one token of five
    const invalid = `subscription { ${Array.from({ length: 200 }, (_, i) => `f${i}`).join(' ')} }`;
    for (let i = 0; i < 8; i++) ws.send({ id: String(i), type: 'subscribe', payload: { query: invalid } });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => ws.message((m) => m.id === String(i))));
    const codes = answers.map((m) => errorsOf(m)[0]?.extensions?.code);
    expect(codes.filter((c) => c === 'GRAPHQL_VALIDATION_FAILED')).toHaveLength(4);
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS')).toHaveLength(4);
    ws.close();
  });

  it('5 and 10. charges the IP for an invalid bearer token, and says Retry-After on 429', async () => {
    const headers = { 'x-forwarded-for': '10.5.0.1', authorization: 'Bearer not.a.token' };
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 7; i++) {
      last = await post(p.url, JSON.stringify({ query: '{ __typename }' }), headers);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    // The bucket is the IP's: an anonymous request from it is refused too.
    const anonymous = await post(p.url, JSON.stringify({ query: '{ __typename }' }), { 'x-forwarded-for': '10.5.0.1' });
    expect(anonymous.status).toBe(429);
    expect(anonymous.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
