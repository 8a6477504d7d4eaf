/**
 * docker-compose.yml, Dockerfile, .dockerignore and deploy/prometheus.yml cannot run here (no Docker
 * engine), so this suite checks what can be checked offline: the files parse, every service the code
 * needs is there, and ports, URLs and environment variables agree with what the code reads
 * (packages/kit/src/env.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { envSchema, loadEnv, loadMigrationEnv } from '@umi/kit';

const root = join(__dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
}
interface Compose {
  services: Record<string, Service>;
}

// `merge: true`: the file shares settings through YAML anchors and `<<` merge keys, as Compose does.
const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = compose.services;
const dockerfile = read('Dockerfile');
const prometheus = parse(read('deploy/prometheus.yml')) as {
  rule_files?: string[];
  scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
};

const SUBGRAPHS = [
  { name: 'tenant', portVar: 'TENANT_PORT', urlVar: 'TENANT_URL' },
  { name: 'pharmacy', portVar: 'PHARMACY_PORT', urlVar: 'PHARMACY_URL' },
  { name: 'inventory', portVar: 'INVENTORY_PORT', urlVar: 'INVENTORY_URL' },
  { name: 'pos', portVar: 'POS_PORT', urlVar: 'POS_URL' },
] as const;
/** Long-running Node processes (each answers /healthz and /metrics). */
const NODE_SERVERS = ['gateway', ...SUBGRAPHS.map((s) => s.name)];
/** Every service running the project's image. */
const NODE_SERVICES = ['migrate', 'relay', 'fiscal', ...NODE_SERVERS];
/** Read by libraries, not by our code (so not in envSchema): @apollo/gateway's telemetry switch. */
const LIBRARY_VARS = new Set(['APOLLO_TELEMETRY_DISABLED']);

const envKeys = new Set(Object.keys(envSchema.shape));

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}
function env(name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, String(v ?? '')]));
}
function commandOf(name: string): string[] {
  const c = service(name).command;
  return Array.isArray(c) ? c : (c ?? '').split(/\s+/).filter(Boolean);
}

/** Compose's variable interpolation (`${X}`, `${X:-d}`, `${X-d}`, `${X:?err}`, `${X?err}`, `$$`). */
function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
    if (m === '$$') return '$';
    if (bare) return vars[bare] ?? '';
    const v = vars[name!];
    const unset = colon ? v === undefined || v === '' : v === undefined;
    if (op === '-') return unset ? arg! : v!;
    if (op === '?') {
      if (unset) throw new Error(`required variable ${name} is missing: ${arg}`);
      return v!;
    }
    return v ?? '';
  });
}
function resolvedEnv(name: string, vars: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env(name)).map(([k, v]) => [k, interpolate(v, vars)]));
}

const HOST_VARS = {
  JWT_SECRET: 'j'.repeat(40),
  INTERNAL_JWT_SECRET: 'i'.repeat(40),
  PATIENT_DATA_KEYS: `1:${Buffer.alloc(32, 7).toString('base64')}`,
  SUPER_ADMIN_EMAIL: 'admin@example.com',
  SUPER_ADMIN_PASSWORD: 'a long enough password',
};

/** Port in a healthcheck `fetch('http://127.0.0.1:PORT/healthz')`. */
function healthcheckPort(name: string): number | undefined {
  const test = service(name).healthcheck?.test.join(' ') ?? '';
  const m = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)\/healthz/.exec(test);
  return m ? Number(m[1]) : undefined;
}

describe('docker-compose.yml', () => {
  it('has every service the platform needs', () => {
    for (const name of ['postgres', 'redis', 'migrate', 'relay', 'fiscal', 'tenant', 'pharmacy', 'inventory', 'pos', 'gateway', 'prometheus', 'grafana']) {
      expect(services).toHaveProperty(name);
    }
  });

  it('uses PostgreSQL 15 and Redis 7 with healthchecks, and keeps the database in a volume', () => {
    expect(service('postgres').image).toBe('postgres:15');
    expect(service('redis').image).toBe('redis:7');
    expect(service('postgres').healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(service('redis').healthcheck?.test.join(' ')).toContain('ping');
    expect(service('postgres').volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
  });

  it('runs every Node service from the project image with its own entry point', () => {
    expect(commandOf('migrate')).toEqual(['node', '--import', 'tsx', 'scripts/migrate.ts']);
    expect(commandOf('relay')).toEqual(['node', '--import', 'tsx', 'scripts/relay.ts']);
    expect(commandOf('gateway')).toEqual(['node', '--import', 'tsx', 'gateway/src/index.ts']);
    for (const { name } of SUBGRAPHS) expect(commandOf(name)).toEqual(['node', '--import', 'tsx', `subgraphs/${name}/src/index.ts`]);
    for (const name of NODE_SERVICES) expect(service(name).build).toBeDefined();
  });

  it('sets only environment variables that env.ts declares', () => {
    for (const name of NODE_SERVICES) {
      const unknown = Object.keys(env(name)).filter((k) => !envKeys.has(k) && !LIBRARY_VARS.has(k));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it("gives every Node service an environment env.ts accepts once the host's variables are filled in", () => {
    for (const name of NODE_SERVERS) {
      const resolved = resolvedEnv(name, HOST_VARS);
      expect(() => loadEnv(resolved)).not.toThrow();
      expect(loadEnv(resolved).NODE_ENV).toBe('production');
    }
    // Without the optional super-admin variables the tenant still starts (they go together or not at all).
    expect(() => loadEnv(resolvedEnv('tenant', { ...HOST_VARS, SUPER_ADMIN_EMAIL: undefined, SUPER_ADMIN_PASSWORD: undefined }))).not.toThrow();
    // The migration job reads its own, smaller schema and gets no secrets.
    expect(() => loadMigrationEnv(resolvedEnv('migrate', {}))).not.toThrow();
    expect(Object.keys(env('migrate')).filter((k) => /SECRET|PASSWORD/.test(k))).toEqual([]);
  });

  it('refuses to start without the JWT secrets and the patient-data keys (no default secret)', () => {
    for (const missing of ['JWT_SECRET', 'INTERNAL_JWT_SECRET', 'PATIENT_DATA_KEYS']) {
      for (const name of NODE_SERVERS) {
        expect(() => resolvedEnv(name, { ...HOST_VARS, [missing]: undefined })).toThrow(missing);
      }
    }
  });

  it('disables Apollo telemetry in every Node service', () => {
    for (const name of NODE_SERVICES) expect([name, env(name).APOLLO_TELEMETRY_DISABLED]).toEqual([name, '1']);
  });

  it('points DATABASE_URL and REDIS_URL at the compose services', () => {
    const pg = env('postgres');
    for (const name of NODE_SERVICES) {
      const e = resolvedEnv(name, HOST_VARS);
      const db = new URL(e.DATABASE_URL!);
      expect([name, db.protocol, db.hostname, db.port || '5432', db.pathname]).toEqual([name, 'postgres:', 'postgres', '5432', `/${pg.POSTGRES_DB}`]);
      expect(db.username).toBe(pg.POSTGRES_USER);
      // The services and PostgreSQL take their password from the same host variable.
      expect(interpolate(pg.POSTGRES_PASSWORD!, { POSTGRES_PASSWORD: 's3cret' })).toBe('s3cret');
      expect(new URL(interpolate(env(name).DATABASE_URL!, { ...HOST_VARS, POSTGRES_PASSWORD: 's3cret' })).password).toBe('s3cret');
      if (name === 'migrate') continue;
      const redis = new URL(e.REDIS_URL!);
      expect([name, redis.protocol, redis.hostname, redis.port || '6379']).toEqual([name, 'redis:', 'redis', '6379']);
    }
  });

  it("routes the gateway to each subgraph's service name and port", () => {
    const gw = env('gateway');
    for (const { name, portVar, urlVar } of SUBGRAPHS) {
      const sub = env(name);
      expect([name, sub[portVar]]).toEqual([name, expect.stringMatching(/^\d+$/)]);
      expect([name, sub.SUBGRAPH_HOST]).toEqual([name, '0.0.0.0']);
      const url = new URL(gw[urlVar]!);
      expect([urlVar, url.hostname, url.port, url.pathname]).toEqual([urlVar, name, sub[portVar], '/graphql']);
      expect([name, healthcheckPort(name)]).toEqual([name, Number(sub[portVar])]);
    }
    expect(gw.PORT).toBe('4000');
    expect(healthcheckPort('gateway')).toBe(4000);
  });

  it('publishes the gateway on 4000 and keeps the subgraphs, PostgreSQL and Redis private', () => {
    expect(service('gateway').ports).toEqual(['4000:4000']);
    for (const name of ['migrate', 'postgres', 'redis', ...SUBGRAPHS.map((s) => s.name)]) {
      expect([name, service(name).ports]).toEqual([name, undefined]);
    }
    expect(service('prometheus').ports).toEqual(['9090:9090']);
    expect(service('grafana').ports).toEqual(['3001:3000']);
    for (const name of ['relay', 'fiscal']) expect([name, service(name).ports]).toEqual([name, undefined]);
  });

  it('runs Jaeger with OTLP on and points every long-running Node service at it', () => {
    expect(service('jaeger').image).toMatch(/^jaegertracing\/all-in-one(:|$)/);
    expect(env('jaeger').COLLECTOR_OTLP_ENABLED).toBe('true');
    expect(service('jaeger').ports).toEqual(['16686:16686']);
    for (const name of [...NODE_SERVERS, 'relay', 'fiscal']) {
      expect([name, resolvedEnv(name, HOST_VARS).OTEL_EXPORTER_OTLP_ENDPOINT]).toEqual([name, 'http://jaeger:4318']);
    }
    // The migration job is a one-shot with nothing to trace.
    expect(env('migrate')).not.toHaveProperty('OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  it('starts things in order: database, migration, subgraphs, gateway', () => {
    expect(service('migrate').depends_on?.postgres?.condition).toBe('service_healthy');
    for (const { name } of SUBGRAPHS) {
      expect([name, service(name).depends_on?.migrate?.condition]).toEqual([name, 'service_completed_successfully']);
      expect([name, service(name).depends_on?.redis?.condition]).toEqual([name, 'service_healthy']);
    }
    for (const { name } of SUBGRAPHS) expect(service('gateway').depends_on).toHaveProperty(name);
  });

  it('gives the super-admin variables to the tenant service only', () => {
    expect(env('tenant')).toHaveProperty('SUPER_ADMIN_EMAIL');
    expect(env('tenant')).toHaveProperty('SUPER_ADMIN_PASSWORD');
    for (const name of NODE_SERVICES.filter((n) => n !== 'tenant')) {
      expect(Object.keys(env(name)).filter((k) => k.startsWith('SUPER_ADMIN_'))).toEqual([]);
    }
  });

  it('mounts deploy/prometheus.yml and its alert rules into Prometheus', () => {
    expect(service('prometheus').image).toMatch(/^prom\/prometheus(:|$)/);
    expect(service('prometheus').volumes).toContainEqual(expect.stringMatching(/^\.\/deploy\/prometheus\.yml:\/etc\/prometheus\/prometheus\.yml/));
    // The rule file Prometheus is told to load is the one mounted from deploy/prometheus/alerts.yml.
    const mounted = (service('prometheus').volumes ?? []).find((v) => v.startsWith('./deploy/prometheus/alerts.yml:'));
    expect(mounted).toBeDefined();
    expect(prometheus.rule_files).toContain(mounted!.split(':')[1]);
  });

  it('provisions Grafana with the Prometheus data source and the dashboards', () => {
    expect(service('grafana').image).toMatch(/^grafana\/grafana(:|$)/);
    const volumes = service('grafana').volumes ?? [];
    expect(volumes).toContainEqual(expect.stringMatching(/^\.\/deploy\/grafana\/provisioning:\/etc\/grafana\/provisioning(:ro)?$/));
    const dashboards = volumes.find((v) => v.startsWith('./deploy/grafana/dashboards:'))?.split(':')[1];
    const providers = parse(read('deploy/grafana/provisioning/dashboards/umi.yml')) as { providers: { options: { path: string } }[] };
    expect(providers.providers.map((p) => p.options.path)).toEqual([dashboards]);
    const sources = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { type: string; url: string }[] };
    expect(sources.datasources).toContainEqual(expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' }));
  });
});

describe('deploy/prometheus.yml', () => {
  it("scrapes /metrics of the gateway and every subgraph on its metrics port, never the API's", () => {
    const targets = prometheus.scrape_configs.flatMap((job) => {
      expect(job.metrics_path ?? '/metrics').toBe('/metrics');
      return job.static_configs.flatMap((c) => c.targets);
    });
    const expected = [
      `gateway:${env('gateway').METRICS_PORT}`,
      ...SUBGRAPHS.map(({ name, portVar }) => `${name}:${env(name)[portVar.replace('_PORT', '_METRICS_PORT')]}`),
      // The relay and the fiscal worker serve no API: their probe port carries /metrics.
      `relay:${env('relay').RELAY_PORT}`,
      `fiscal:${env('fiscal').FISCAL_PORT}`,
    ];
    for (const name of NODE_SERVERS) {
      expect(env(name).METRICS_HOST).toBe('0.0.0.0');
      // Published nowhere: only Prometheus on the compose network scrapes it.
      expect((service(name).ports ?? []).join(',')).not.toMatch(/94\d\d/);
    }
    expect(env('gateway').METRICS_PORT).not.toBe(env('gateway').PORT);
    expect([...targets].sort()).toEqual([...expected].sort());
    expect(targets).toHaveLength(NODE_SERVERS.length + 2);
    expect([healthcheckPort('relay'), healthcheckPort('fiscal')]).toEqual([Number(env('relay').RELAY_PORT), Number(env('fiscal').FISCAL_PORT)]);
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const runs = instructions.filter((l) => /^RUN\s/i.test(l)).map((l) => l.replace(/^RUN\s+/i, ''));

  it('builds on node:20-bookworm-slim, installs with npm ci, generates the Prisma clients', () => {
    expect(instructions.find((l) => /^FROM\s/i.test(l))).toMatch(/^FROM\s+node:20-bookworm-slim(\s|$)/);
    const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r));
    const generate = runs.findIndex((r) => r.includes('node scripts/generate.mjs'));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(generate).toBeGreaterThan(ci);
  });

  it('copies every workspace manifest before npm ci (npm ci fails on a missing workspace)', () => {
    const pkg = JSON.parse(read('package.json')) as { workspaces: string[] };
    const manifests = pkg.workspaces.flatMap((w) =>
      w.endsWith('/*')
        ? readdirSync(join(root, w.slice(0, -2)), { withFileTypes: true })
            .filter((d) => d.isDirectory() && existsSync(join(root, w.slice(0, -2), d.name, 'package.json')))
            .map((d) => `${w.slice(0, -2)}/${d.name}/package.json`)
        : [`${w}/package.json`],
    );
    const beforeCi = instructions.slice(0, instructions.findIndex((l) => /^RUN\s.*\bnpm ci\b/.test(l))).join('\n');
    for (const m of ['package-lock.json', ...manifests]) expect([m, beforeCi.includes(m)]).toEqual([m, true]);
  });

  it('runs as a non-root user with telemetry off and NODE_ENV=production, gateway by default', () => {
    const user = instructions.filter((l) => /^USER\s/i.test(l)).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|\s|$)/i);
    const envText = instructions.filter((l) => /^ENV\s/i.test(l)).join(' ');
    expect(envText).toMatch(/\bAPOLLO_TELEMETRY_DISABLED=1\b/);
    expect(envText).toMatch(/\bNODE_ENV=production\b/);
    const cmd = instructions.filter((l) => /^CMD\s/i.test(l)).pop()!;
    expect(JSON.parse(cmd.replace(/^CMD\s+/i, ''))).toEqual(['node', '--import', 'tsx', 'gateway/src/index.ts']);
  });

  it('documents the migration command', () => {
    expect(dockerfile).toContain('node --import tsx scripts/migrate.ts');
  });

  it("composes the supergraph the gateway serves, after the sources are copied", () => {
    const copyAll = instructions.findIndex((l) => /^COPY\s+\.\s+\.(\s|$)/.test(l));
    const compose = instructions.findIndex((l) => /^RUN\s.*\bnpx tsx scripts\/compose\.ts\b/.test(l));
    expect(copyAll).toBeGreaterThanOrEqual(0);
    expect(compose).toBeGreaterThan(copyAll);
    expect(read('gateway/src/index.ts')).toContain('supergraph.graphql');
    expect(existsSync(join(root, 'supergraph.yaml'))).toBe(true);
  });

  it('references only files that exist and that .dockerignore keeps in the build context', () => {
    const referenced = new Set<string>();
    const scan = (text: string) => {
      for (const m of text.matchAll(/(?:^|[\s"'[,])((?:scripts|gateway|subgraphs|packages)\/[\w./-]+\.(?:mjs|ts|js))(?![\w.])/g)) referenced.add(m[1]!);
    };
    scan(dockerfile);
    for (const name of NODE_SERVICES) scan(commandOf(name).join(' '));
    for (const f of ['scripts/generate.mjs', 'scripts/compose.ts', 'scripts/migrate.ts', 'gateway/src/index.ts', ...SUBGRAPHS.map((s) => `subgraphs/${s.name}/src/index.ts`)]) {
      expect(referenced).toContain(f);
    }

    const ignore = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'))
      .map((p) => p.replace(/^\/+|\/+$/g, ''))
      .map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*\*/g, '.*').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`));
    for (const file of [...referenced, 'package.json', 'package-lock.json', 'prisma/shared.prisma', 'prisma/tenant.prisma', 'supergraph.yaml', 'tsconfig.json']) {
      expect([file, existsSync(join(root, file))]).toEqual([file, true]);
      const parts = file.split('/');
      const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      expect([file, prefixes.filter((p) => ignore.some((re) => re.test(p)))]).toEqual([file, []]);
    }
  });
});
