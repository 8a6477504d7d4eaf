import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { createMemoryBucket } from './rate-limit';
import { maskError, fromZodError, ForbiddenError } from './errors';
import { DateScalar, DecimalScalar, DateTimeScalar } from './scalars';
import { loadEnv, EnvError } from './env';
import { createAccessTokens, createInternalTokens } from './tokens';

describe('token bucket', () => {
  it('allows the burst, then refuses with a retry hint, then refills', async () => {
    // 600 a minute: one token every 100 ms, slow enough that the four takes below share one instant.
    const bucket = createMemoryBucket({ capacity: 3, perMinute: 600 });
    const results = await Promise.all([1, 2, 3, 4].map(() => bucket.take('k')));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]!.retryAfterMs).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 150));
    expect((await bucket.take('k')).allowed).toBe(true);
    expect((await bucket.take('other')).allowed).toBe(true);
  });
});

describe('error masking', () => {
  it('keeps deliberate errors and masks everything else with the correlation id', () => {
    const logged: unknown[] = [];
    const forbidden = new ForbiddenError('No access');
    expect(maskError({ message: 'No access', extensions: { code: 'FORBIDDEN', stacktrace: ['x'] } }, forbidden, 'rid-1', (e) => logged.push(e))).toEqual({
      message: 'No access',
      extensions: { code: 'FORBIDDEN', correlationId: 'rid-1' },
    });
    const boom = new GraphQLError('connection to 10.0.0.5 refused', { originalError: new Error('connection to 10.0.0.5 refused') });
    const masked = maskError({ message: boom.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, boom, 'rid-2', (e) => logged.push(e));
    expect(masked).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId: 'rid-2' } });
    expect(logged).toHaveLength(1);
  });

  it('turns zod issues into BAD_USER_INPUT with paths', () => {
    const r = z.object({ qty: z.number().positive() }).safeParse({ qty: -1 });
    const err = fromZodError(r.error!);
    expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ path: 'input.qty' }] });
  });
});

describe('scalars', () => {
  it('accepts decimals only as strings and serializes with two decimals', () => {
    expect(DecimalScalar.parseValue('12.50')).toBe('12.50');
    expect(() => DecimalScalar.parseValue(12.5)).toThrow(/string/);
    expect(() => DecimalScalar.parseValue('1e3')).toThrow();
    expect(DecimalScalar.serialize({ toFixed: (n: number) => (30).toFixed(n) })).toBe('30.00');
  });
  it('accepts real calendar dates and zoned instants only', () => {
    expect(DateScalar.parseValue('2026-02-28')).toBe('2026-02-28');
    expect(() => DateScalar.parseValue('2026-02-30')).toThrow(/real calendar date/);
    expect(DateTimeScalar.serialize(new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-01T00:00:00.000Z');
    expect(() => DateTimeScalar.parseValue('2026-01-01T10:00:00')).toThrow(/zone/);
  });
});

describe('environment', () => {
  it('lists every problem at once', () => {
    try {
      loadEnv({ JWT_SECRET: 'short', PORT: 'abc' });
      throw new Error('expected EnvError');
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      const problems = (err as EnvError).problems.join('\n');
      expect(problems).toMatch(/JWT_SECRET/);
      expect(problems).toMatch(/INTERNAL_JWT_SECRET/);
      expect(problems).toMatch(/PORT/);
    }
  });
});

describe('tokens', () => {
  const principal = {
    userId: '6f1c1d9e-8a44-4b8e-9d7a-0c1b2a3d4e5f', email: 'a@b.c', role: 'CASHIER' as const, tenantId: '11111111-2222-4333-8444-555555555555', tenantSubdomain: 'acme',
    branchIds: ['21111111-2222-4333-8444-555555555555'],
    permissions: { canViewAllBranches: false, canManageAllBranches: false, canTransferStock: false, canViewReports: [], canProcessSales: [] },
  };
  const cfg = { secret: 'x'.repeat(32), issuer: 'umi', audience: 'api', ttlSeconds: 60 };

  it('round-trips the principal and rejects another issuer’s or key’s tokens', async () => {
    const tokens = createAccessTokens(cfg);
    const jwt = await tokens.sign(principal);
    expect((await tokens.verify(jwt)).principal).toEqual(principal);
    await expect(createAccessTokens({ ...cfg, issuer: 'other' }).verify(jwt)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(createAccessTokens({ ...cfg, secret: 'y'.repeat(32) }).verify(jwt)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const [h, p] = jwt.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`;
    await expect(tokens.verify(none)).rejects.toBeDefined();
    expect(h).toBeDefined();
  });

  it('binds internal tokens to one subgraph', async () => {
    const internal = createInternalTokens('z'.repeat(32), 60);
    const t = await internal.sign({ rid: 'r1', ip: null, ua: null, usr: principal, th: null }, 'pos');
    expect((await internal.verify(t, 'pos')).usr).toEqual(principal);
    await expect(internal.verify(t, 'tenant')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('accepts reusable internal tokens without a request id, verified once and still bound to their subgraph and secret', async () => {
    const internal = createInternalTokens('z'.repeat(32), 60);
    const t = await internal.sign({ ip: '10.0.0.1', ua: 'till', usr: principal, th: null }, 'inventory');
    expect(await internal.verify(t, 'inventory')).toEqual({ ip: '10.0.0.1', ua: 'till', usr: principal, th: null });
    expect((await internal.verify(t, 'inventory')).usr).toEqual(principal);
    await expect(internal.verify(t, 'pos')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(createInternalTokens('q'.repeat(32), 60).verify(t, 'inventory')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });
});
