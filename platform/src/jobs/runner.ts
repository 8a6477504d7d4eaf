import PgBoss from 'pg-boss';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createAppPool, createOwnerPool, readJobQueues, ServerPools, serverUrls, sql, sharedTables, type JobQueueRow, type TenantRecord } from '@umi/db';
import type { EventBus } from '@umi/events';
import { createLogger, createMetrics, type Env, type Logger } from '@umi/kit';
import { createSubgraphRuntime } from '@umi/subgraph';
import { createPosRetries } from '@umi/subgraph-pos';
import { JOBS, type JobDefinition, type JobDeps, type JobPeriod } from './definitions';

/** pg-boss keeps its queues here, a schema of its own that it creates and migrates. */
export const JOBS_SCHEMA = 'pgboss';

export interface JobRunnerOptions {
  env: Env;
  logger?: Logger;
  /** Where the outbox sweep republishes (null: the sweep job skips). */
  bus?: EventBus | null;
  /** The jobs this runner schedules and works on (default: every job, JOBS). */
  definitions?: JobDefinition[];
  /**
   * Cron schedules (default on). Tests turn them off and fan out with `trigger()`, so that nothing
   * starts on the minute while they assert.
   */
  schedule?: boolean;
}

interface TenantJobData {
  tenantId?: string;
  period: string;
}

const PERIOD_SECONDS: Record<JobPeriod, number> = { minute: 60, hour: 3600, day: 86_400 };

/** The period a run belongs to (UTC): 2026-11-30, 2026-11-30T09 or 2026-11-30T09:41. */
export function periodKey(period: JobPeriod, at: Date): string {
  const iso = at.toISOString();
  return period === 'day' ? iso.slice(0, 10) : period === 'hour' ? iso.slice(0, 13) : iso.slice(0, 16);
}

/** The fan-out queue of a job: its cron sends here, and one run per tenant goes to the job's own queue. */
const fanOutQueue = (name: string) => `${name}__schedule`;

/**
 * The scheduled-job runner (pg-boss on PostgreSQL). Each job has a cron; at each tick one runner
 * (pg-boss's cron is taken by one instance) fans out one job per active tenant, keyed by
 * tenant + job + period (`singletonKey`, with a singleton slot of the period), so however many
 * runners fan out, each tenant's run exists once; workers on every runner share the runs. A run
 * that throws is retried (retryLimit, delay doubling) and then stays `failed`, visible in
 * `jobQueues` and `jobs_failed`. Every handler is idempotent besides: a repeated run does nothing.
 */
export async function startJobRunner(opts: JobRunnerOptions) {
  const { env } = opts;
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  const logger = opts.logger ?? createLogger('jobs', env.LOG_LEVEL);
  const definitions = opts.definitions ?? JOBS;
  const byName = new Map(definitions.map((d) => [d.name, d]));
  // pg-boss creates its schema and a table per queue: the owner's role, as migrations use.
  const ownerPool = createOwnerPool(env.DATABASE_URL, 4);
  const appPool = createAppPool(env.DATABASE_URL, 4, env.DATABASE_APP_ROLE);
  const runtime = createSubgraphRuntime(env, 'inventory', logger);
  const pos = createPosRetries(runtime, appPool);
  // A tenant's schema lives on its server (placement): maintenance of it goes to that server's
  // pools, opened on first use, the primary's being the two above.
  const urls = serverUrls(env.DATABASE_URL, env.TENANT_DATABASE_URLS);
  const ownerPools = new ServerPools(urls, (url) => createOwnerPool(url, 2), ownerPool);
  const appPools = new ServerPools(urls, (url) => createAppPool(url, 2, env.DATABASE_APP_ROLE), appPool);
  const deps: JobDeps = {
    env,
    logger,
    runtime,
    appPool,
    ownerPool,
    ownerPoolOf: (t) => ownerPools.pool(t.server),
    appPoolOf: (t) => appPools.pool(t.server),
    bus: opts.bus ?? null,
    pos,
  };
  const metrics = createMetrics('jobs');
  metrics.pool(appPool);

  const boss = new PgBoss({
    db: { executeSql: (text: string, values: unknown[]) => ownerPool.query(text, values) },
    schema: JOBS_SCHEMA,
    schedule: opts.schedule !== false,
    // Completed runs stay in the job table (where their singleton keys hold) for a day, the longest period.
    archiveCompletedAfterSeconds: 86_400,
    archiveFailedAfterSeconds: 7 * 86_400,
    // Archived runs are kept three days (what the operator looks back at), then deleted.
    deleteAfterDays: 3,
  });
  boss.on('error', (err) => logger.warn({ err: err.message }, 'job runner: pg-boss error'));

  const failures = new Counter({ name: 'jobs_failed_total', help: 'Job runs that failed in this runner (each attempt; retried while retries are left)', labelNames: ['queue'] as const, registers: [metrics.registry] });
  const completed = new Counter({ name: 'jobs_completed_total', help: 'Job runs that completed in this runner', labelNames: ['queue'] as const, registers: [metrics.registry] });
  const duration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Duration of one job run (one tenant, or the platform)',
    labelNames: ['queue'] as const,
    buckets: [0.01, 0.05, 0.25, 1, 5, 30, 120, 600],
    registers: [metrics.registry],
  });
  // The queues' state over every runner, read from PostgreSQL at scrape time (once per scrape).
  let snapshot: { at: number; rows: Promise<JobQueueRow[]> } | null = null;
  const queues = (): Promise<JobQueueRow[]> => {
    if (!snapshot || Date.now() - snapshot.at > 1000) {
      snapshot = { at: Date.now(), rows: runtime.data.shared({ kind: 'platform' }, null).transaction((tx) => readJobQueues(tx)) };
    }
    return snapshot.rows;
  };
  const stateGauge = (name: string, help: string, pick: (r: JobQueueRow) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['queue'] as const,
      registers: [metrics.registry],
      async collect() {
        const rows = await queues().catch(() => null);
        this.reset();
        if (rows) for (const r of rows) this.set({ queue: r.name }, pick(r));
      },
    });
  stateGauge('jobs_pending', 'Jobs waiting to run (created or waiting for a retry), per queue, over every runner', (r) => r.pending);
  stateGauge('jobs_active', 'Jobs running now, per queue, over every runner', (r) => r.active);
  stateGauge('jobs_failed', 'Jobs failed for good (retries exhausted) in the last 24 hours, per queue', (r) => r.failed24h);
  stateGauge('jobs_oldest_pending_seconds', 'How long the oldest job due has waited, per queue (0 when none)', (r) => r.oldestPendingSeconds);

  async function activeTenants(): Promise<TenantRecord[]> {
    const rows = await runtime.data.shared({ kind: 'platform' }, null).transaction((tx) =>
      tx.sql.query<{ id: string; name: string; subdomain: string; schema_name: string; status: string; tpin: string | null; server: string; moving: boolean }>(
        sql`SELECT t.id::text, t.name, t.subdomain, t.schema_name, t.status, t.tpin, s.connection_ref AS server, t.moving_since IS NOT NULL AS moving
            FROM ${sharedTables.tenants} t JOIN ${sharedTables.database_servers} s ON s.id = t.server_id
            WHERE t.deleted_at IS NULL AND t.status = 'active' ORDER BY t.schema_name`,
      ),
    );
    return rows.map((r) => ({ id: r.id, name: r.name, subdomain: r.subdomain, schemaName: r.schema_name, status: r.status, tpin: r.tpin, server: r.server, moving: r.moving }));
  }

  /**
   * Sends the job's runs for this period: one per active tenant (or one for the platform), each
   * unique by tenant + job + period across every runner. Returns the ids of the runs it created
   * (a run that already exists for the period is not created again).
   */
  async function fanOut(def: JobDefinition, at: Date = new Date(), only?: string[]): Promise<string[]> {
    const period = periodKey(def.period, at);
    const targets = def.scope === 'platform' ? [null] : (await activeTenants()).filter((t) => !only || only.includes(t.id));
    const ids: string[] = [];
    for (const t of targets) {
      const data: TenantJobData = { ...(t ? { tenantId: t.id } : {}), period };
      const id = await boss.send(def.name, data, {
        singletonKey: `${t?.id ?? 'platform'}:${def.name}:${period}`,
        singletonSeconds: PERIOD_SECONDS[def.period],
        retryLimit: def.retryLimit,
        retryDelay: def.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: 15 * 60,
      });
      if (id) ids.push(id);
    }
    return ids;
  }

  async function runOne(def: JobDefinition, job: PgBoss.Job<TenantJobData>): Promise<unknown> {
    const end = duration.startTimer({ queue: def.name });
    try {
      let tenant: TenantRecord | null = null;
      if (def.scope === 'tenant') {
        tenant = job.data.tenantId ? await runtime.directory.resolve(job.data.tenantId) : null;
        // A tenant deleted or suspended since the fan-out: nothing to do, and nothing to retry.
        if (!tenant || tenant.status !== 'active') return { skipped: 'tenant not active' };
      }
      const out = await def.run(deps, tenant, { job: def.name, runId: job.id, now: new Date() });
      completed.inc({ queue: def.name });
      return out ?? null;
    } catch (err) {
      failures.inc({ queue: def.name });
      logger.warn({ job: def.name, runId: job.id, tenantId: job.data.tenantId ?? null, err: (err as Error).message }, 'job run failed');
      throw err;
    } finally {
      end();
    }
  }

  await boss.start();
  for (const def of definitions) {
    failures.inc({ queue: def.name }, 0);
    const queue = { name: def.name, retryLimit: def.retryLimit, retryDelay: def.retryDelaySeconds, retryBackoff: true, expireInSeconds: 15 * 60 };
    await boss.createQueue(def.name, queue);
    await boss.updateQueue(def.name, queue);
    await boss.createQueue(fanOutQueue(def.name), { name: fanOutQueue(def.name), retryLimit: 2, retryDelay: 10, expireInSeconds: 5 * 60 });
    if (opts.schedule !== false) await boss.schedule(fanOutQueue(def.name), def.cron, {}, { tz: 'UTC' });
    await boss.work<Record<string, never>>(fanOutQueue(def.name), { pollingIntervalSeconds: env.JOBS_POLL_SECONDS }, async () => {
      await fanOut(def);
    });
    for (let i = 0; i < env.JOBS_CONCURRENCY; i++) {
      await boss.work<TenantJobData>(def.name, { pollingIntervalSeconds: env.JOBS_POLL_SECONDS, batchSize: 1 }, async ([job]) => runOne(def, job!));
    }
  }
  logger.info({ jobs: definitions.map((d) => d.name), schedule: opts.schedule !== false }, 'job runner running');

  let stopped = false;
  return {
    boss,
    metrics,
    definitions,
    /** The queues as `jobQueues` shows them. */
    queues,
    /**
     * Fans a job out now, as its cron would (tests, operators); `tenantIds` limits it to those
     * tenants. Resolves to the ids of the runs created (none when this period's already exist).
     */
    trigger(name: string, opts: { at?: Date; tenantIds?: string[] } = {}): Promise<string[]> {
      const def = byName.get(name);
      if (!def) throw new Error(`unknown job ${name}`);
      return fanOut(def, opts.at, opts.tenantIds);
    },
    /** Waits until these runs of the job are completed or failed for good; resolves to their states. */
    async settle(name: string, ids: string[], timeoutMs = 20_000): Promise<Record<string, string>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states: Record<string, string> = {};
        for (const id of ids) states[id] = (await boss.getJobById(name, id, { includeArchive: true }))?.state ?? 'missing';
        if (Object.values(states).every((s) => s === 'completed' || s === 'failed' || s === 'cancelled')) return states;
        if (Date.now() > deadline) throw new Error(`jobs of ${name} not settled: ${JSON.stringify(states)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** True while the runner works (readiness). */
    ready: () => !stopped,
    async close(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await boss.stop({ graceful: true, wait: true, timeout: 20_000 });
      await pos.close();
      await runtime.close();
      await appPools.close();
      await ownerPools.close();
    },
  };
}
export type JobRunner = Awaited<ReturnType<typeof startJobRunner>>;
