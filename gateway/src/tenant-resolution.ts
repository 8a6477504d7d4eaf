import { BadUserInputError, ForbiddenError, type Principal } from '@umi/kit';

/** Labels of the platform's own hosts, never a tenant. */
const NON_TENANT_LABELS = new Set(['www', 'api', 'app', 'gateway']);

/** The tenant label of `host` under `baseDomain` (or `localhost` for development), if any. */
export function subdomainOf(host: string | undefined, baseDomain: string): string | null {
  if (!host) return null;
  const name = host.toLowerCase().replace(/:\d+$/, '');
  for (const base of [baseDomain.toLowerCase(), 'localhost']) {
    if (name.endsWith(`.${base}`)) {
      const label = name.slice(0, -(base.length + 1));
      if (/^[a-z0-9-]{3,63}$/.test(label) && !NON_TENANT_LABELS.has(label)) return label;
    }
  }
  return null;
}

/**
 * Decides the tenant hint a request carries to the subgraphs. With a token, the tenant is the
 * token's, and a header or host naming another tenant is FORBIDDEN (a token of tenant A must never
 * be replayed against tenant B). Without a token, the header wins over the host; the subgraph
 * resolves the hint (login is the only anonymous operation that uses it).
 */
export function resolveTenantHint(principal: Principal | null, header: string | undefined, host: string | null): string | null {
  // A tenant is named by its subdomain or its UUID; anything else is the caller's mistake, and is
  // refused here rather than carried (unbounded) into every subgraph's internal token.
  if (header !== undefined && header.trim() !== '' && !/^[A-Za-z0-9-]{1,128}$/.test(header.trim())) {
    throw new BadUserInputError('X-Tenant-ID must be a tenant subdomain or id (letters, digits and dashes, at most 128 characters)');
  }
  const named = [header?.trim().toLowerCase(), host].filter((v): v is string => Boolean(v));
  if (principal) {
    const own = [principal.tenantId, principal.tenantSubdomain].filter((v): v is string => Boolean(v)).map((v) => v.toLowerCase());
    for (const n of named) {
      if (!own.includes(n)) throw new ForbiddenError('The request names a tenant other than the token’s');
    }
    return principal.tenantId;
  }
  return named[0] ?? null;
}
