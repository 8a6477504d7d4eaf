import { randomBytes } from 'node:crypto';
import { loadEnv, type Env } from '@umi/kit';
import { startFederation, type RunningFederation } from '@umi/platform';
import { createTestDatabase, type TestDatabase } from './database';

export const SUPER_ADMIN = { email: 'operator@umi.test', password: 'Operator-Test-Password-1' };

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> & { code?: string } }[];
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

/** A running platform on a fresh database: gateway URL, request helper, factories. */
export interface TestPlatform {
  db: TestDatabase;
  env: Env;
  url: string;
  /** Where a process of the platform serves /metrics (its internal port, not the API's). */
  metricsUrl(service: keyof RunningFederation['metricsUrls']): string;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, opts?: RequestOptions): Promise<GqlResult<T>>;
  /** Like gql but throws unless the response has data and no errors. */
  ok<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, opts?: RequestOptions): Promise<T>;
  loginSuperAdmin(): Promise<string>;
  /** Stops or restarts one subgraph of the platform on its port. */
  subgraph: RunningFederation['subgraph'];
  /** Publishes every committed outbox event now instead of waiting for the relay. */
  flushEvents(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the four subgraphs and the gateway on ephemeral ports over a fresh database, with the
 * given environment overrides (REDIS_URL is passed through when the caller sets it).
 */
export async function startTestPlatform(overrides: Record<string, string> = {}): Promise<TestPlatform> {
  const db = await createTestDatabase();
  const env = loadEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: '5',
    JWT_SECRET: randomBytes(32).toString('hex'),
    INTERNAL_JWT_SECRET: randomBytes(32).toString('hex'),
    PATIENT_DATA_KEYS: `1:${randomBytes(32).toString('base64')}`,
    SUPER_ADMIN_EMAIL: SUPER_ADMIN.email,
    SUPER_ADMIN_PASSWORD: SUPER_ADMIN.password,
    RATE_LIMIT_BURST: '10000',
    RATE_LIMIT_PER_MINUTE: '100000',
    LOGIN_ATTEMPTS_PER_ACCOUNT: '1000',
    LOGIN_ATTEMPTS_PER_IP: '10000',
    // Concurrency tests send dozens of requests of one tenant at once; admission control has its own tests.
    MAX_IN_FLIGHT: '1000',
    MAX_IN_FLIGHT_PER_TENANT: '1000',
    // Many suites arrange state by writing SQL straight into the tenant schema, which no cache can
    // see; the caches' own suites turn them on.
    CACHE_ENABLED: 'false',
    ...overrides,
  });
  let federation: RunningFederation;
  try {
    federation = await startFederation(env, { ephemeralPorts: true });
  } catch (err) {
    await db.drop();
    throw err;
  }
  const url = federation.url;

  async function gql<T>(query: string, variables: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<GqlResult<T>> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...opts.headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
    return { status: res.status, ...body };
  }

  async function ok<T>(query: string, variables: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<T> {
    const r = await gql<T>(query, variables, opts);
    if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors ?? r)}`);
    return r.data;
  }

  return {
    db,
    env: federation.env,
    url,
    metricsUrl: (service) => federation.metricsUrls[service],
    gql,
    ok,
    async loginSuperAdmin() {
      const d = await ok<{ login: { accessToken: string } }>(
        'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
        { e: SUPER_ADMIN.email, p: SUPER_ADMIN.password },
      );
      return d.login.accessToken;
    },
    subgraph: (name) => federation.subgraph(name),
    flushEvents: () => federation.flushEvents(),
    async close() {
      await federation.close();
      await db.drop();
    },
  };
}
