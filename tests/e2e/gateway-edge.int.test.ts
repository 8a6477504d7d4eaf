import { redisReachable } from '@umi/testkit/processes';
import { startTestPlatform, type TestPlatform } from '@umi/testkit';

describe('the public endpoint', () => {
  let p: TestPlatform;
  beforeAll(async () => {
    p = await startTestPlatform({ MAX_DEPTH: '2', MAX_TOKENS: '400' });
  });
  afterAll(async () => {
    await p?.close();
  });

  it('refuses queries past the depth and token limits', async () => {
    const token = await p.loginSuperAdmin();
    expect((await p.gql('{ me { id } }', {}, { token })).errors).toBeUndefined();
    const deep = await p.gql('{ me { tenant { id } } }', {}, { token });
    expect(deep.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(deep.errors?.[0]?.message).toMatch(/depth/i);
    const many = 'query { ' + Array.from({ length: 150 }, (_, i) => `f${i}: me { id }`).join(' ') + ' }';
    const tokens = await p.gql(many, {}, { token });
    expect(tokens.status).toBe(400);
    expect(tokens.errors?.[0]?.message).toMatch(/Token limit/);
  });

  it('hides schema suggestions and stack traces', async () => {
    const token = await p.loginSuperAdmin();
    const r = await p.gql('{ me { emial } }', {}, { token });
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(r.errors)).not.toMatch(/Did you mean/);
    const bad = await p.gql('mutation { login(email: "x@y.test", password: "nope-nope-nope", tenant: "no-such-tenant") { accessToken } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(bad.errors?.[0]?.extensions?.correlationId).toEqual(expect.any(String));
    expect(JSON.stringify(bad)).not.toMatch(/stacktrace|serviceName/);
  });

  it('answers health, readiness and metrics', async () => {
    const base = p.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', down: [] });
    // Metrics live on an internal port, never on the public API's.
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    expect(new URL(p.metricsUrl('gateway')).port).not.toBe(new URL(p.url).port);
    const metrics = await (await fetch(p.metricsUrl('gateway'))).text();
    expect(metrics).toMatch(/graphql_request_duration_seconds_bucket/);
    expect(metrics).toMatch(/auth_failures_total/);
    for (const service of ['tenant', 'pharmacy', 'inventory', 'pos'] as const) {
      expect(await (await fetch(p.metricsUrl(service))).text()).toMatch(/subgraph_operations_total/);
    }
    expect((await fetch(p.env.POS_URL!.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
  });

  it('labels request metrics with known operation names only', async () => {
    const token = await p.loginSuperAdmin();
    const names = Array.from({ length: 20 }, (_, i) => `Attacker${i}_${'x'.repeat(200)}`);
    for (const name of names) await p.gql(`query ${name} { me { id } }`, {}, { token });
    await p.gql('query Me { me { id } }', {}, { token });
    const metrics = await (await fetch(p.metricsUrl('gateway'))).text();
    expect(metrics).not.toMatch(/Attacker/);
    expect(metrics).toMatch(/graphql_request_duration_seconds_count\{[^}]*operation="other"/);
    expect(metrics).toMatch(/graphql_request_duration_seconds_count\{[^}]*operation="Me"/);
    const operations = new Set([...metrics.matchAll(/graphql_request_duration_seconds_count\{[^}]*operation="([^"]*)"/g)].map((m) => m[1]));
    expect(operations.size).toBeLessThanOrEqual(4);
  });

  it('applies CORS to the portals’ origins only', async () => {
    const allowed = await fetch(p.url, { method: 'OPTIONS', headers: { origin: 'https://acme.umihealth.com', 'access-control-request-method': 'POST' } });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://acme.umihealth.com');
    const denied = await fetch(p.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });
});


describe('rate limiting through Redis (shared by every gateway instance)', () => {
  let reachable = false;
  let p: TestPlatform | undefined;
  let q: TestPlatform | undefined;
  beforeAll(async () => {
    reachable = await redisReachable(process.env.REDIS_URL);
    if (!reachable) {
      if (process.env.REQUIRE_REDIS === '1') throw new Error(`REQUIRE_REDIS=1 but Redis is not reachable at ${process.env.REDIS_URL ?? '(REDIS_URL unset)'}`);
      process.stdout.write(`skipping Redis rate-limit test: no Redis reachable at ${process.env.REDIS_URL ?? '(REDIS_URL unset)'}\n`);
      return;
    }
    // One token a minute refills nothing during the test, so the count is exact however slow the machine.
    const shared = { REDIS_URL: process.env.REDIS_URL!, RATE_LIMIT_BURST: '20', RATE_LIMIT_PER_MINUTE: '1' };
    p = await startTestPlatform(shared);
    q = await startTestPlatform({ ...shared, JWT_SECRET: p.env.JWT_SECRET, INTERNAL_JWT_SECRET: p.env.INTERNAL_JWT_SECRET });
  });
  afterAll(async () => {
    await q?.close();
    await p?.close();
  });

  it('allows a burst of 20 per user, then 429 with a retry hint, across two gateways', async () => {
    if (!reachable) return;
    const token = await p!.loginSuperAdmin();
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 24; i++) {
      const target = i % 2 === 0 ? p! : q!;
      const r = await target.gql('{ tenants { id } }', {}, { token });
      codes.push(r.errors?.[0]?.extensions?.code ?? (r.status === 429 ? 'TOO_MANY_REQUESTS' : 'OK'));
    }
    // The login above spent the IP's bucket, not the user's: 20 pass, then the bucket is empty.
    expect(codes.slice(0, 20).every((c) => c === undefined || c === 'OK' || c === 'FORBIDDEN')).toBe(true);
    expect(codes.slice(20)).toEqual(['TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
    const last = await p!.gql('{ tenants { id } }', {}, { token });
    expect(last.status).toBe(429);
    expect(last.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
  });
});
