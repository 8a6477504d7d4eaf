/**
 * The platform as docker compose runs it, one process per service under a `Supervisor`: its
 * settings, its start, and a client for its gateways. Part of `@umi/testkit/processes`.
 */
import { randomBytes } from 'node:crypto';
import { envSchema, loadEnv } from '@umi/kit';
import type { GqlResult, RequestOptions, TestPlatform } from './platform';
import { freePorts, logged, type Service, type Supervisor } from './supervisor';

/** The subgraphs, in the order they start; each runs from `subgraphs/<name>/src/index.ts`. */
export const SUBGRAPHS = ['tenant', 'pharmacy', 'inventory', 'pos'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/** What `platformEnv` builds the settings from. */
export interface PlatformSettings {
  databaseUrl: string;
  redisUrl: string;
  subgraphPorts: Record<SubgraphName, number>;
  /** Where each subgraph serves /metrics (0 or absent: any free port). */
  subgraphMetricsPorts?: Partial<Record<SubgraphName, number>>;
  /** The platform operator the platform creates at start (testkit's SUPER_ADMIN). */
  superAdmin: { email: string; password: string };
  /** Settings to change, e.g. a low rate limit for an overload drill. */
  overrides?: Record<string, string>;
}

/**
 * The platform's settings, built as `startTestPlatform` builds them (random secrets, a patient-data
 * key, the test super-admin, rate limits far above the load), with Redis as the bus and explicit
 * ports, checked with the platform's own `loadEnv`. None of the platform's settings come from this
 * shell: the processes inherit only the rest of its environment (PATH and the like).
 */
export function platformEnv(s: PlatformSettings): Record<string, string> {
  const settings: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: s.databaseUrl,
    DATABASE_POOL_MAX: '5',
    JWT_SECRET: randomBytes(32).toString('hex'),
    INTERNAL_JWT_SECRET: randomBytes(32).toString('hex'),
    PATIENT_DATA_KEYS: `1:${randomBytes(32).toString('base64')}`,
    SUPER_ADMIN_EMAIL: s.superAdmin.email,
    SUPER_ADMIN_PASSWORD: s.superAdmin.password,
    RATE_LIMIT_BURST: '100000',
    RATE_LIMIT_PER_MINUTE: '10000000',
    LOGIN_ATTEMPTS_PER_ACCOUNT: '1000',
    LOGIN_ATTEMPTS_PER_IP: '10000',
    REDIS_URL: s.redisUrl,
    HOST: '127.0.0.1',
    SUBGRAPH_HOST: '127.0.0.1',
  };
  for (const name of SUBGRAPHS) {
    settings[`${name.toUpperCase()}_PORT`] = String(s.subgraphPorts[name]);
    settings[`${name.toUpperCase()}_URL`] = `http://127.0.0.1:${s.subgraphPorts[name]}/graphql`;
    // Fixed default metrics ports would collide between platforms running side by side.
    settings[`${name.toUpperCase()}_METRICS_PORT`] = String(s.subgraphMetricsPorts?.[name] ?? 0);
  }
  settings.METRICS_PORT = '0';
  Object.assign(settings, s.overrides);
  loadEnv(settings);
  const platformKeys = new Set(Object.keys(envSchema.shape));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !platformKeys.has(k)) env[k] = v;
  return { ...env, ...settings, APOLLO_TELEMETRY_DISABLED: '1' };
}

/** The platform as processes: its settings and a handle on each process. */
export interface PlatformProcesses {
  env: Record<string, string>;
  /** In SUBGRAPHS order. */
  subgraphs: Service[];
  relay: Service;
  /** One per name asked for, in that order; `url` is its GraphQL endpoint. */
  gateways: Service[];
  /** Where each process serves /metrics, by service name (subgraphs' and gateways' names). */
  metricsUrls: Record<string, string>;
}

/**
 * Starts the platform as docker compose runs it, one process per service, on free ports: the four
 * subgraphs first, then the outbox relay and one gateway per name in `gateways` (they route to the
 * subgraphs' ports); resolves once every one is ready, or fails with the first that is not.
 */
export async function startPlatformProcesses(
  supervisor: Supervisor,
  s: Omit<PlatformSettings, 'subgraphPorts'> & {
    gateways: readonly string[];
    /** How long each process may take to become ready (default the supervisor's START_TIMEOUT_MS). */
    startTimeoutMs?: number;
  },
): Promise<PlatformProcesses> {
  const services = SUBGRAPHS.length + s.gateways.length;
  // The last port is the relay's health port (RELAY_PORT): a fixed default would collide between runs.
  const ports = await freePorts(2 * services + 1);
  const relayPort = ports[2 * services] as number;
  const subgraphPorts = Object.fromEntries(SUBGRAPHS.map((name, i) => [name, ports[i] as number])) as Record<SubgraphName, number>;
  const subgraphMetricsPorts = Object.fromEntries(SUBGRAPHS.map((name, i) => [name, ports[services + i] as number])) as Record<SubgraphName, number>;
  const env = platformEnv({ ...s, subgraphPorts, subgraphMetricsPorts });
  const metricsUrls: Record<string, string> = {};
  for (const name of SUBGRAPHS) metricsUrls[name] = `http://127.0.0.1:${subgraphMetricsPorts[name]}/metrics`;
  const subgraphs = SUBGRAPHS.map((name) =>
    supervisor.startNode(name, `subgraphs/${name}/src/index.ts`, env, { port: subgraphPorts[name], url: `http://127.0.0.1:${subgraphPorts[name]}/graphql` }),
  );
  await allReady(subgraphs.map((svc) => svc.ready(s.startTimeoutMs)));
  // The relay has no HTTP server: it is ready once it says so, which it does at info.
  const relay = supervisor.startNode('relay', 'scripts/relay.ts', { ...env, LOG_LEVEL: 'info', RELAY_PORT: String(relayPort) }, { ready: logged('outbox relay running') });
  const gateways = s.gateways.map((name, i) => {
    const port = ports[SUBGRAPHS.length + i] as number;
    const metricsPort = ports[services + SUBGRAPHS.length + i] as number;
    metricsUrls[name] = `http://127.0.0.1:${metricsPort}/metrics`;
    return supervisor.startNode(name, 'gateway/src/index.ts', { ...env, PORT: String(port), METRICS_PORT: String(metricsPort) }, { port, url: `http://127.0.0.1:${port}/graphql` });
  });
  await allReady([relay, ...gateways].map((svc) => svc.ready(s.startTimeoutMs)));
  return { env, subgraphs, relay, gateways, metricsUrls };
}

/** Waits for every start to settle (so none is left half-started), then fails with the first failure. */
async function allReady(starts: Promise<void>[]): Promise<void> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * What `createTenant` uses of a TestPlatform (`gql`, `ok`, `loginSuperAdmin`), over one of the
 * gateways: a fixture is made through the API, as the tests make theirs.
 */
export function gatewayClient(gateway: Service, superAdmin: { email: string; password: string }): Pick<TestPlatform, 'gql' | 'ok' | 'loginSuperAdmin'> {
  const url = gateway.url;
  if (!url) throw new Error(`${gateway.name} has no URL`);
  async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<GqlResult<T>> {
    const res = await fetch(url as string, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    try {
      return { status: res.status, ...(JSON.parse(text) as Omit<GqlResult<T>, 'status'>) };
    } catch {
      throw new Error(`${gateway.name}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
    }
  }
  async function ok<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<T> {
    const r = await gql<T>(query, variables, opts);
    if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors ?? r)}`);
    return r.data;
  }
  return {
    gql,
    ok,
    async loginSuperAdmin() {
      const d = await ok<{ login: { accessToken: string } }>('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
        e: superAdmin.email,
        p: superAdmin.password,
      });
      return d.login.accessToken;
    },
  };
}
