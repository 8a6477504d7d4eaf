import type { RequestHandler } from 'express';

/** `https://*.umihealth.com` style patterns: `*` matches one DNS label. */
export function originMatcher(patterns: string[]): (origin: string) => boolean {
  const regexes = patterns.map(
    (p) => new RegExp(`^${p.trim().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[a-z0-9-]+')}$`, 'i'),
  );
  return (origin) => regexes.some((r) => r.test(origin));
}

/** CORS as the design document sets it: listed origins, the portals' headers, credentials off. */
export function cors(patterns: string[]): RequestHandler {
  const allowed = originMatcher(patterns);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && allowed(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Tenant-ID, X-Branch-ID, X-Request-ID, Apollo-Require-Preflight');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    if (req.method === 'OPTIONS') {
      res.status(origin && allowed(origin) ? 204 : 403).end();
      return;
    }
    next();
  };
}
