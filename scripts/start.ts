// First: tracing (when configured) must patch http, pg and ioredis before they load.
import '@umi/kit/tracing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { graphiqlEnabled, loadEnv, startMetricsServer } from '@umi/kit';
import { createOwnerPool, migrateAll, ServerPools, serverUrls } from '@umi/db';
import { startEmbeddedPostgres } from '@umi/db/embedded-postgres';
import { ROOT, startDevSimulators, startFederation, startJobRunnerProcess, type DevSimulators } from '@umi/platform';
import { configureDemoMobileMoney, DEMO_PASSWORDS, seedDemo } from './seed-demo';
import { seedFiscalDemo } from './seed-fiscal-demo';

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
  const servers = new ServerPools(serverUrls(env.DATABASE_URL!, env.TENANT_DATABASE_URLS), (url) => createOwnerPool(url), owner);
  await migrateAll(owner, env.DATABASE_APP_ROLE, { serverPool: (server) => servers.pool(server) });
  await servers.close();

  // Two processes where they pay: with Redis between them (event bus and cache versions cross
  // processes), the gateway runs in its own process beside the subgraphs and relay, so a 2-core
  // machine uses both cores. Without Redis everything stays in one process (in-memory bus, L1
  // cache versions), which those need.
  const split = Boolean(env.REDIS_URL) && availableParallelism() > 1 && raw.UMI_SINGLE_PROCESS !== '1';
  const federation = await startFederation(env, { gateway: !split });
  const gatewayProcess = split ? await startGatewayProcess(raw, env.PORT) : null;
  const demo = await seedDemo(federation.url, env.SUPER_ADMIN_EMAIL!, env.SUPER_ADMIN_PASSWORD!);
  // The scheduled jobs (expiry write-off and warnings, outbox sweep, retries, retention) in this
  // process, with their metrics on JOBS_PORT; compose and Kubernetes run scripts/jobs.ts instead.
  const jobs = env.JOBS_RUNNER ? await startJobRunnerProcess(env, { inProcess: true }) : null;
  const jobsMetrics = jobs ? await startMetricsServer(jobs.metrics, env.JOBS_PORT, env.METRICS_HOST) : null;
  // ZRA's VSDC and the mobile-money providers cannot be reached from a development machine: the demo
  // tenant talks to simulators started here (printed as such), unless turned off (DEMO_SIMULATORS)
  // or, for the VSDC, a real one is named (DEMO_VSDC_URL). Nothing a simulator signs is fiscal.
  let sims: DevSimulators | null = null;
  if (env.DEMO_SIMULATORS) {
    sims = await startDevSimulators({ callbackOrigin: new URL(federation.url).origin, only: env.DEMO_VSDC_URL ? ['mtn', 'airtel'] : ['vsdc', 'mtn', 'airtel'] });
    await configureDemoMobileMoney(federation.url, demo.subdomain, sims.mobileMoney as unknown as Record<string, unknown>[]);
  }
  const vsdc = sims?.simulators.vsdc ?? null;
  const vsdcUrl = env.DEMO_VSDC_URL ?? vsdc?.url ?? null;
  const fiscal = vsdcUrl
    ? await seedFiscalDemo(federation.url, vsdcUrl).catch((err: unknown) => ({ saleNumber: '', receipt: null, error: (err as Error).message }))
    : null;

  const lines = [
    '',
    `Umi Health is running: ${federation.url}`,
    `  GraphiQL:  ${federation.url} (open it in a browser${graphiqlEnabled(env) ? '' : '; off: set GRAPHIQL=true'})`,
    `  dashboard: ${federation.url.replace(/\/graphql$/, '/dashboard/')}`,
    `  database: ${embedded ? 'embedded PostgreSQL (.umi-data/pg)' : 'DATABASE_URL'}; events, limits and cache versions: ${env.REDIS_URL ? 'Redis' : 'in memory'}`,
    `  processes: ${gatewayProcess ? `gateway (pid ${gatewayProcess.pid}) and subgraphs + relay (pid ${process.pid})` : 'one (set REDIS_URL to run the gateway in its own process)'}`,
    `  scheduled jobs: ${jobs ? `running (${jobs.definitions.length} jobs; the operator's jobQueues query, metrics on :${env.JOBS_PORT}/metrics)` : 'off (JOBS_RUNNER=false)'}`,
    `  platform operator: ${env.SUPER_ADMIN_EMAIL} / ${raw.SUPER_ADMIN_PASSWORD === DEMO_PASSWORDS.operator ? DEMO_PASSWORDS.operator : '(SUPER_ADMIN_PASSWORD)'}`,
    `  demo tenant "${demo.subdomain}" (send X-Tenant-ID: ${demo.subdomain} or pass tenant: "${demo.subdomain}" to login), branches ${demo.branches.join(', ')}:`,
    ...demo.users.map((u) => `    ${u.role.padEnd(10)} ${u.email} / ${u.password}`),
    ...(sims ? ['', ...sims.simulators.describe(), `  The demo tenant's MTN and Airtel Money point at these simulators: sell with paymentMethod MOBILE_MONEY, mobileMoneyProvider MTN and payerMsisdn 0971234567.`] : []),
    vsdc
      ? `  ZRA Smart Invoice: VSDC SIMULATOR at ${vsdc.url} (not ZRA: nothing it signs is fiscal; faults via POST ${vsdc.origin}/__control)`
      : vsdcUrl
        ? `  ZRA Smart Invoice: VSDC at ${vsdcUrl}`
        : '  ZRA Smart Invoice: no VSDC configured (DEMO_SIMULATORS=false and no DEMO_VSDC_URL)',
    ...(!fiscal
      ? []
      : fiscal.receipt
        ? [`  demo sale ${fiscal.saleNumber}, fiscalised${vsdc ? ' by the simulator' : ''}:`, '', ...fiscal.receipt.trimEnd().split('\n').map((l) => `    ${l}`), '']
        : [`  demo sale ${fiscal.saleNumber || '(not made)'} not fiscalised yet${'error' in fiscal ? `: ${fiscal.error}` : ''} (see fiscalBacklog)`]),
    'Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping...\n');
    if (gatewayProcess && gatewayProcess.exitCode === null) {
      const exited = new Promise((resolve) => gatewayProcess.once('exit', resolve));
      gatewayProcess.kill('SIGTERM');
      await exited;
    }
    await jobsMetrics?.close();
    await jobs?.close();
    await federation.close();
    await sims?.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

/** The gateway as a child process on `port`, with the same settings; resolves once it is healthy. */
async function startGatewayProcess(raw: Record<string, string | undefined>, port: number): Promise<ChildProcess> {
  const env = Object.fromEntries(Object.entries({ ...process.env, ...raw }).filter((e): e is [string, string] => e[1] !== undefined));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway', 'src', 'index.ts')], { env, stdio: 'inherit' });
  // The gateway must not outlive this process, whatever the way it ends.
  process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the gateway process exited (${child.exitCode}) while starting`);
    const healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the gateway process did not become healthy within 60 s');
}

function pick(o: Record<string, string | undefined>, keys: string[]) {
  return Object.fromEntries(keys.filter((k) => o[k]).map((k) => [k, o[k]]));
}

start().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
