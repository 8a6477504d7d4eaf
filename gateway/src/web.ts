import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';

/** Where `npm run generate` bundles the browser pages (scripts/build-web.mjs). */
export const DEFAULT_WEB_DIST = join(resolve(__dirname, '..', '..'), 'dist', 'web');

// The pages load only their own bundle and talk only to this gateway (HTTP and graphql-ws).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
].join('; ');

const EXPLORER_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Umi Health · GraphiQL</title>
  <link rel="stylesheet" href="/explorer/graphiql.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script type="module" src="/explorer/graphiql.js"></script>
</body>
</html>
`;

function secured(res: Response): Response {
  return res.set({ 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
}

/** A browser asking for a page: GET, Accept text/html first, and no GraphQL request in the URL. */
function wantsPage(req: Request): boolean {
  if (req.method !== 'GET' || req.query.query !== undefined || req.query.extensions !== undefined) return false;
  return req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * GraphiQL on GET /graphql for browsers (when enabled) with its bundle under /explorer/, and the
 * live dashboard under /dashboard/. Both are static bundles of dist/web; nothing comes from a CDN.
 */
export function webPages(opts: { dist: string; graphiql: boolean }): { explorer: (req: Request, res: Response, next: NextFunction) => void; static: Router } {
  const router = express.Router();
  const bundled = (dir: string) => existsSync(join(opts.dist, dir));
  const unbuilt = (res: Response) => res.status(503).type('text/plain').send('The browser pages are not built: run `npm run generate`.\n');
  if (opts.graphiql) {
    router.use('/explorer', (_req, res, next) => (bundled('explorer') ? next() : unbuilt(res)), express.static(join(opts.dist, 'explorer'), { index: false, maxAge: '1h' }));
  }
  router.use(
    '/dashboard',
    (req, res, next) => {
      // The page's relative asset URLs need the trailing slash (routing here is not strict).
      if (new URL(req.originalUrl, 'http://gateway').pathname === '/dashboard') return res.redirect(301, '/dashboard/');
      if (!bundled('dashboard')) return unbuilt(res);
      secured(res);
      next();
    },
    express.static(join(opts.dist, 'dashboard'), { index: 'index.html', maxAge: 0 }),
  );
  return {
    static: router,
    explorer: (req, res, next) => {
      if (!opts.graphiql || !wantsPage(req)) return next();
      if (!bundled('explorer')) return unbuilt(res);
      secured(res).type('html').send(EXPLORER_HTML);
    },
  };
}
