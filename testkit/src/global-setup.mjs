// jest globalSetup: a real PostgreSQL for every test. DATABASE_URL when given (CI, .ci/run),
// otherwise an embedded server started here and stopped in global-teardown.mjs.
import { startEmbeddedPostgres } from '@umi/db/embedded-postgres';

export default async function globalSetup() {
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  if (process.env.DATABASE_URL) return;
  const pg = await startEmbeddedPostgres();
  globalThis.__umiEmbeddedPostgres = pg;
  process.env.DATABASE_URL = pg.url;
  process.stdout.write(`\nembedded PostgreSQL for tests at ${pg.url.replace(/:[^:@/]+@/, ':***@')}\n`);
}
