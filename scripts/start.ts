import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { graphiqlEnabled, loadEnv } from '@umi/kit';
import { createOwnerPool, migrateAll } from '@umi/db';
import { startEmbeddedPostgres } from '@umi/db/embedded-postgres';
import { ROOT, startFederation } from '@umi/platform';
import { DEMO_PASSWORDS, seedDemo } from './seed-demo';

const DATA_DIR = join(ROOT, '.umi-data');

/** Development secrets, kept in .umi-data so that tokens survive a restart of `npm start`. */
type DevSecrets = { JWT_SECRET: string; INTERNAL_JWT_SECRET: string; PATIENT_DATA_KEYS: string };
const SECRET_NAMES = ['JWT_SECRET', 'INTERNAL_JWT_SECRET', 'PATIENT_DATA_KEYS'] as const;

function devSecrets(): DevSecrets {
  const file = join(DATA_DIR, 'secrets.json');
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>) : {};
  // Secrets added in a later version join the file without replacing the ones it has.
  const secrets: DevSecrets = {
    JWT_SECRET: kept.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    INTERNAL_JWT_SECRET: kept.INTERNAL_JWT_SECRET ?? randomBytes(32).toString('base64url'),
    PATIENT_DATA_KEYS: kept.PATIENT_DATA_KEYS ?? `1:${randomBytes(32).toString('base64')}`,
  };
  mkdirSync(DATA_DIR, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/**
 * `npm start`: the whole federation on one machine. Without DATABASE_URL it runs an embedded
 * PostgreSQL whose data stays in .umi-data/; without secrets it makes development ones. Then it
 * migrates, starts the four subgraphs and the gateway, seeds a demo tenant and prints how to use it.
 */
async function start() {
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const raw: Record<string, string | undefined> = { ...process.env };
  const embedded = raw.DATABASE_URL ? null : await startEmbeddedPostgres({ dir: join(DATA_DIR, 'pg'), persistent: true });
  if (embedded) raw.DATABASE_URL = embedded.url;
  if (SECRET_NAMES.some((name) => !raw[name])) Object.assign(raw, { ...devSecrets(), ...pick(raw, [...SECRET_NAMES]) });
  raw.SUPER_ADMIN_EMAIL ??= 'operator@umihealth.local';
  raw.SUPER_ADMIN_PASSWORD ??= DEMO_PASSWORDS.operator;
  const env = loadEnv(raw);

  const owner = createOwnerPool(env.DATABASE_URL!);
  await migrateAll(owner, env.DATABASE_APP_ROLE);
  await owner.end();

  const federation = await startFederation(env);
  const demo = await seedDemo(federation.url, env.SUPER_ADMIN_EMAIL!, env.SUPER_ADMIN_PASSWORD!);

  const lines = [
    '',
    `Umi Health is running: ${federation.url}`,
    `  GraphiQL:  ${federation.url} (open it in a browser${graphiqlEnabled(env) ? '' : '; off: set GRAPHIQL=true'})`,
    `  dashboard: ${federation.url.replace(/\/graphql$/, '/dashboard/')}`,
    `  database: ${embedded ? 'embedded PostgreSQL (.umi-data/pg)' : 'DATABASE_URL'}; events and limits: ${env.REDIS_URL ? 'Redis' : 'in memory'}`,
    `  platform operator: ${env.SUPER_ADMIN_EMAIL} / ${raw.SUPER_ADMIN_PASSWORD === DEMO_PASSWORDS.operator ? DEMO_PASSWORDS.operator : '(SUPER_ADMIN_PASSWORD)'}`,
    `  demo tenant "${demo.subdomain}" (send X-Tenant-ID: ${demo.subdomain} or pass tenant: "${demo.subdomain}" to login), branches ${demo.branches.join(', ')}:`,
    ...demo.users.map((u) => `    ${u.role.padEnd(10)} ${u.email} / ${u.password}`),
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping...\n');
    await federation.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

function pick(o: Record<string, string | undefined>, keys: string[]) {
  return Object.fromEntries(keys.filter((k) => o[k]).map((k) => [k, o[k]]));
}

start().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
