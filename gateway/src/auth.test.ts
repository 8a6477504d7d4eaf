import type { Request } from 'express';
import { AppError, createAccessTokens, createLogger, createMemoryBucket, createMetrics, type Metrics, type Principal } from '@umi/kit';
import { createAuthenticator, type AuthRequest, type Transport } from './auth';
import { createContextBuilder } from './context';

const config = { secret: 'a-test-secret-of-at-least-thirty-two-characters', issuer: 'umi-test', audience: 'umi-test-api', ttlSeconds: 900 };
const accessTokens = createAccessTokens(config);

const acme: Principal = {
  userId: '6f1c1d9e-8a44-4b8e-9d7a-0c1b2a3d4e5f', email: 'a@acme.test', role: 'ADMIN', tenantId: '11111111-2222-4333-8444-555555555555', tenantSubdomain: 'acme', branchIds: [],
  permissions: { canViewAllBranches: true, canManageAllBranches: true, canTransferStock: true, canViewReports: [], canProcessSales: [] },
};
const operator: Principal = { ...acme, userId: '0d9c8b7a-6f5e-4d3c-8b2a-190817263544', role: 'SUPER_ADMIN', tenantId: null, tenantSubdomain: null };

function setup(shape = { capacity: 5, perMinute: 1 }) {
  const metrics = createMetrics('gateway-auth-test');
  const auth = createAuthenticator({
    env: { BASE_DOMAIN: 'umihealth.com' },
    logger: createLogger('gateway-auth-test', 'silent'),
    metrics,
    accessTokens,
    rateLimit: createMemoryBucket(shape),
  });
  return { auth, metrics };
}

function request<T extends Transport>(transport: T, over: Partial<AuthRequest<T>> = {}): AuthRequest<T> {
  return { transport, authorization: undefined, host: 'api.umihealth.com', ip: '198.51.100.7', userAgent: 'jest', ...over };
}

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof AppError)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err;
}

async function counted(metrics: Metrics, name: 'authFailures' | 'authDenials' | 'rateLimited'): Promise<Record<string, number>> {
  const { values } = await metrics[name].get();
  return Object.fromEntries(values.map((v) => [Object.values(v.labels).join(','), v.value]));
}

describe('authenticate over HTTP', () => {
  it('lets a request without Authorization through as anonymous, its tenant named by header or host', async () => {
    const { auth } = setup();
    const viaHeader = await auth.authenticate(request('http', { tenantHeader: 'Acme', host: 'other.umihealth.com' }));
    expect(viaHeader).toMatchObject({ principal: null, expiresAt: null, tenantHint: 'acme', ip: '198.51.100.7', userAgent: 'jest' });
    expect(viaHeader.rateLimit).toMatchObject({ allowed: true, remaining: 4 });
    expect((await auth.authenticate(request('http', { host: 'acme.umihealth.com' }))).tenantHint).toBe('acme');
    expect((await auth.authenticate(request('http', { authorization: '' }))).principal).toBeNull();
  });

  it('verifies a bearer token and returns its principal, expiry and tenant', async () => {
    const { auth } = setup();
    const before = Math.floor(Date.now() / 1000);
    const caller = await auth.authenticate(request('http', { authorization: `bearer ${await accessTokens.sign(acme)}`, host: 'acme.umihealth.com' }));
    expect(caller.principal).toEqual(acme);
    expect(caller.tenantHint).toBe(acme.tenantId);
    expect(caller.expiresAt).toBeGreaterThanOrEqual(before + config.ttlSeconds);
    expect(caller.expiresAt).toBeLessThanOrEqual(before + config.ttlSeconds + 2);
  });

  it('refuses an Authorization that is not a Bearer credential', async () => {
    const { auth, metrics } = setup();
    const err = await refusal(auth.authenticate(request('http', { authorization: 'Basic dXNlcjpwYXNz' })));
    expect(err.extensions.code).toBe('UNAUTHENTICATED');
    expect(err.message).toMatch(/Bearer/);
    expect(await counted(metrics, 'authFailures')).toEqual({ access_token: 1 });
  });

  it('refuses invalid, foreign and expired tokens as UNAUTHENTICATED', async () => {
    const { auth, metrics } = setup();
    const foreign = await createAccessTokens({ ...config, secret: 'another-secret-of-at-least-thirty-two-chars' }).sign(acme);
    const expired = await createAccessTokens({ ...config, ttlSeconds: -10 }).sign(acme);
    for (const token of ['not-a-token', foreign]) {
      const err = await refusal(auth.authenticate(request('http', { authorization: `Bearer ${token}` })));
      expect([err.extensions.code, err.message]).toEqual(['UNAUTHENTICATED', 'Invalid access token']);
    }
    const late = await refusal(auth.authenticate(request('http', { authorization: `Bearer ${expired}` })));
    expect([late.extensions.code, late.message]).toEqual(['UNAUTHENTICATED', 'Access token expired']);
    expect(await counted(metrics, 'authFailures')).toEqual({ access_token: 3 });
  });

  it('forbids a token of tenant A at a header or host naming tenant B', async () => {
    const { auth, metrics } = setup();
    const authorization = `Bearer ${await accessTokens.sign(acme)}`;
    const byHeader = await refusal(auth.authenticate(request('http', { authorization, tenantHeader: 'beta' })));
    const byHost = await refusal(auth.authenticate(request('http', { authorization, host: 'beta.umihealth.com' })));
    expect([byHeader.extensions.code, byHost.extensions.code]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(await counted(metrics, 'authDenials')).toEqual({ FORBIDDEN: 2 });
    expect((await auth.authenticate(request('http', { authorization, tenantHeader: acme.tenantId!, host: 'acme.localhost:4000' }))).tenantHint).toBe(acme.tenantId);
  });

  it('spends the user’s bucket when signed in and the IP’s otherwise; an empty bucket is TOO_MANY_REQUESTS with retryAfter', async () => {
    const { auth, metrics } = setup({ capacity: 2, perMinute: 1 });
    const authorization = `Bearer ${await accessTokens.sign(acme)}`;
    await auth.authenticate(request('http', { authorization }));
    await auth.authenticate(request('http', { authorization, ip: '203.0.113.9' }));
    const err = await refusal(auth.authenticate(request('http', { authorization })));
    expect(err.extensions.code).toBe('TOO_MANY_REQUESTS');
    expect(err.extensions.retryAfter).toBeGreaterThan(0);
    expect(err.extensions.retryAfter).toBeLessThanOrEqual(60);
    // The same IP still has its own bucket for anonymous requests (login).
    const anonymous = await auth.authenticate(request('http'));
    expect(anonymous.rateLimit.remaining).toBe(1);
    await auth.authenticate(request('http'));
    expect((await refusal(auth.authenticate(request('http')))).extensions.code).toBe('TOO_MANY_REQUESTS');
    expect(await counted(metrics, 'rateLimited')).toEqual({ request: 2 });
  });

  it('spends a token before checking the tenant, so probing other tenants is not free', async () => {
    const { auth } = setup({ capacity: 1, perMinute: 1 });
    const authorization = `Bearer ${await accessTokens.sign(acme)}`;
    expect((await refusal(auth.authenticate(request('http', { authorization, tenantHeader: 'beta' })))).extensions.code).toBe('FORBIDDEN');
    expect((await refusal(auth.authenticate(request('http', { authorization })))).extensions.code).toBe('TOO_MANY_REQUESTS');
  });

  it('keeps a well-formed request id and replaces any other', async () => {
    const { auth } = setup();
    expect((await auth.authenticate(request('http', { requestIdHeader: 'trace-1234.abc' }))).requestId).toBe('trace-1234.abc');
    const replaced = (await auth.authenticate(request('http', { requestIdHeader: 'bad id; drop table' }))).requestId;
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('authenticate over graphql-ws', () => {
  it('refuses a connection without a token, counted as ws_token', async () => {
    const { auth, metrics } = setup();
    for (const authorization of [undefined, '', 42]) {
      expect((await refusal(auth.authenticate(request('ws', { authorization })))).extensions.code).toBe('UNAUTHENTICATED');
    }
    expect((await refusal(auth.authenticate(request('ws', { authorization: 'Bearer not-a-token' })))).extensions.code).toBe('UNAUTHENTICATED');
    expect(await counted(metrics, 'authFailures')).toEqual({ ws_token: 4 });
  });

  it('refuses the platform operator without spending the bucket, and another tenant’s host', async () => {
    const { auth, metrics } = setup({ capacity: 1, perMinute: 1 });
    const refused = await refusal(auth.authenticate(request('ws', { authorization: `Bearer ${await accessTokens.sign(operator)}` })));
    expect(refused.extensions.code).toBe('FORBIDDEN');
    const authorization = `Bearer ${await accessTokens.sign(acme)}`;
    expect((await refusal(auth.authenticate(request('ws', { authorization, host: 'beta.umihealth.com' })))).extensions.code).toBe('FORBIDDEN');
    expect(await counted(metrics, 'authDenials')).toEqual({ FORBIDDEN: 2 });
    const bucketSpent = await refusal(auth.authenticate(request('ws', { authorization })));
    expect(bucketSpent.extensions.code).toBe('TOO_MANY_REQUESTS');
    expect(await counted(metrics, 'rateLimited')).toEqual({ ws_connect: 1 });
  });

  it('accepts a tenant user and ignores X-Tenant-ID, which only HTTP reads', async () => {
    const { auth } = setup();
    const caller = await auth.authenticate(request('ws', { authorization: `Bearer ${await accessTokens.sign(acme)}`, tenantHeader: 'beta', host: 'acme.umihealth.com' }));
    expect(caller.principal.userId).toBe(acme.userId);
    expect(caller.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(caller.tenantHint).toBe(acme.tenantId);
  });

  it('charges subscriptions to the same bucket as the connection', async () => {
    const { auth, metrics } = setup({ capacity: 2, perMinute: 1 });
    const caller = await auth.authenticate(request('ws', { authorization: `Bearer ${await accessTokens.sign(acme)}` }));
    expect((await auth.charge(caller, 'ws_subscribe')).allowed).toBe(true);
    expect((await auth.charge(caller, 'ws_subscribe')).allowed).toBe(false);
    expect(await counted(metrics, 'rateLimited')).toEqual({ ws_subscribe: 1 });
  });
});

describe('the HTTP context', () => {
  it('gives each refusal its HTTP status', async () => {
    const { auth } = setup({ capacity: 1, perMinute: 1 });
    const build = createContextBuilder(auth);
    const req = (headers: Record<string, string>, ip = '198.51.100.7') => ({ headers: { host: 'api.umihealth.com', ...headers }, ip }) as unknown as Request;
    const status = async (headers: Record<string, string>, ip?: string) => (await refusal(build(req(headers, ip)))).extensions.http;
    const authorization = `Bearer ${await accessTokens.sign(acme)}`;
    // A refused token spends its IP's token: the second is refused for the rate limit.
    expect(await status({ authorization: 'Bearer nope' }, '198.51.100.8')).toEqual({ status: 401 });
    expect(await status({ authorization: 'Bearer nope' }, '198.51.100.8')).toMatchObject({ status: 429 });
    expect(await status({ authorization, 'x-tenant-id': 'beta' })).toEqual({ status: 403 });
    expect(await status({ authorization })).toEqual({ status: 429, headers: new Map([['retry-after', expect.stringMatching(/^[1-9]\d*$/)]]) });
    const ctx = await build(req({ 'x-request-id': 'trace-1234.abc', 'user-agent': 'x'.repeat(600) }));
    expect(ctx).toMatchObject({ requestId: 'trace-1234.abc', principal: null, tenantHint: null, ip: '198.51.100.7' });
    expect(ctx.userAgent).toHaveLength(512);
    expect(ctx.internalTokens.size).toBe(0);
  });
});
