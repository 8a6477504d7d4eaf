import { resolveTenantHint, subdomainOf } from './tenant-resolution';
import { originMatcher } from './cors';
import { checkTokenLimit } from './limits';
import type { Principal } from '@umi/kit';

const principal: Principal = {
  userId: '6f1c1d9e-8a44-4b8e-9d7a-0c1b2a3d4e5f', email: 'a@b.c', role: 'ADMIN', tenantId: '11111111-2222-4333-8444-555555555555', tenantSubdomain: 'acme', branchIds: [],
  permissions: { canViewAllBranches: false, canManageAllBranches: false, canTransferStock: false, canViewReports: [], canProcessSales: [] },
};

describe('tenant resolution at the edge', () => {
  it('reads the tenant label of a host', () => {
    expect(subdomainOf('acme.umihealth.com', 'umihealth.com')).toBe('acme');
    expect(subdomainOf('acme.umihealth.com:443', 'umihealth.com')).toBe('acme');
    expect(subdomainOf('acme.localhost:4000', 'umihealth.com')).toBe('acme');
    expect(subdomainOf('www.umihealth.com', 'umihealth.com')).toBeNull();
    expect(subdomainOf('umihealth.com', 'umihealth.com')).toBeNull();
    expect(subdomainOf('a.b.umihealth.com', 'umihealth.com')).toBeNull();
    expect(subdomainOf('acme.evil.com', 'umihealth.com')).toBeNull();
  });

  it('takes the token’s tenant and forbids naming another', () => {
    expect(resolveTenantHint(principal, undefined, null)).toBe(principal.tenantId);
    expect(resolveTenantHint(principal, 'ACME', 'acme')).toBe(principal.tenantId);
    expect(resolveTenantHint(principal, principal.tenantId!, null)).toBe(principal.tenantId);
    expect(() => resolveTenantHint(principal, 'other', null)).toThrow(/other than the token/);
    expect(() => resolveTenantHint(principal, undefined, 'other')).toThrow(/other than the token/);
    const operator = { ...principal, role: 'SUPER_ADMIN' as const, tenantId: null, tenantSubdomain: null };
    expect(resolveTenantHint(operator, undefined, null)).toBeNull();
    expect(() => resolveTenantHint(operator, 'acme', null)).toThrow();
  });

  it('prefers the header over the host without a token', () => {
    expect(resolveTenantHint(null, 'acme', 'other')).toBe('acme');
    expect(resolveTenantHint(null, undefined, 'other')).toBe('other');
    expect(resolveTenantHint(null, undefined, null)).toBeNull();
  });
});

describe('CORS origins', () => {
  const allowed = originMatcher(['https://*.umihealth.com', 'http://localhost:3000']);
  it('matches one label for *, nothing more', () => {
    expect(allowed('https://acme.umihealth.com')).toBe(true);
    expect(allowed('http://localhost:3000')).toBe(true);
    expect(allowed('https://a.b.umihealth.com')).toBe(false);
    expect(allowed('https://umihealth.com.evil.io')).toBe(false);
    expect(allowed('http://acme.umihealth.com')).toBe(false);
  });
});

describe('token limit', () => {
  it('counts lexer tokens without parsing', () => {
    expect(checkTokenLimit('{ me { id } }', 10)).toBeNull();
    expect(checkTokenLimit('{ me { id } }', 5)?.message).toMatch(/Token limit of 5/);
    expect(checkTokenLimit('{ me { ', 100)).toBeNull();
  });
});
