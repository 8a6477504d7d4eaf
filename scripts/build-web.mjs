// Bundles the browser pages the gateway serves, with esbuild, into dist/web/ (not committed):
//   explorer/  GraphiQL (the `graphiql` package, React) with the portals' operations as example tabs
//   dashboard/ the live dashboard (dashboard/src), on the typed client
// Everything a page needs is in the bundle: nothing is fetched from a CDN.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';

export async function buildWeb(root, { minify = true } = {}) {
  const require = createRequire(join(root, 'package.json'));
  const esbuild = require('esbuild');
  const out = join(root, 'dist', 'web');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'explorer'), { recursive: true });
  mkdirSync(join(out, 'dashboard'), { recursive: true });

  const opsDir = join(root, 'clients', 'operations');
  const tabs = readdirSync(opsDir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => ({ title: basename(f, '.graphql'), query: readFileSync(join(opsDir, f), 'utf8') }));

  const common = {
    bundle: true,
    minify,
    sourcemap: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    logLevel: 'error',
    absWorkingDir: root,
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file' },
  };
  await esbuild.build({
    ...common,
    entryPoints: { graphiql: join(root, 'gateway', 'explorer', 'graphiql.ts') },
    outdir: join(out, 'explorer'),
    define: { ...common.define, __UMI_TABS__: JSON.stringify(tabs) },
  });
  await esbuild.build({
    ...common,
    entryPoints: { main: join(root, 'dashboard', 'src', 'main.ts') },
    outdir: join(out, 'dashboard'),
  });
  copyFileSync(join(root, 'dashboard', 'index.html'), join(out, 'dashboard', 'index.html'));
  return out;
}
