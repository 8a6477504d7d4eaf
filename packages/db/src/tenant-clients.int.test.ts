// Acceptance: a per-tenant Prisma Client through @prisma/adapter-pg, bound to the tenant's schema,
// from a bounded cache; with 200 tenants active, PostgreSQL connections never exceed a configured
// budget. 200 tenant schemas are migrated into a fresh database, each with one product of its own;
// then every tenant reads and writes concurrently through TenantClients (cache of 50 over ONE app
// pool of 8) while the connection count is watched three ways: the pool's own counters, the pool's
// `connect` events (physical connections ever opened) and pg_stat_activity seen from a separate
// owner connection. Every answer must be the asking tenant's own data.
import { Client, Pool } from 'pg';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { applyMigrations, inTransaction } from './migrate';
import { createAppPool } from './pools';
import { TenantClients } from './tenant-clients';

const TENANTS = 200;
const BUDGET = 8;
const MAX_CLIENTS = 50;
const ROUNDS = 5;
/** Owner connections used to migrate the tenant schemas in parallel. */
const MIGRATION_CONCURRENCY = 4;
/** Tags the app pool's backends in pg_stat_activity. */
const APP_NAME = 'umi_budget_app';

const schemaOf = (i: number): string => `tenant_budget_${String(i).padStart(3, '0')}`;
const skuOf = (i: number): string => `BUDGET-${String(i).padStart(3, '0')}`;

interface Peaks {
  poolTotal: number;
  poolWaiting: number;
  connectEvents: number;
  /** Backends tagged with APP_NAME. */
  pgApp: number;
  /** Client backends of the database that were not there before the load (owner's, sampler's), tagged or not. */
  pgNew: number;
  samples: number;
}

describe('TenantClients: 200 tenants within a fixed connection budget', () => {
  let db: TestDatabase;
  let migrateMs = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    const started = Date.now();
    const owner = new Pool({ connectionString: db.url, max: MIGRATION_CONCURRENCY });
    owner.on('error', () => {});
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        const client = await owner.connect();
        try {
          for (let i = next++; i < TENANTS; i = next++) {
            await inTransaction(client, async () => {
              await applyMigrations(client, 'tenant', schemaOf(i), TEST_APP_ROLE);
              await client.query(`INSERT INTO "${schemaOf(i)}".products (sku, name) VALUES ($1, $2)`, [skuOf(i), `Product of tenant ${i}`]);
            });
          }
        } finally {
          client.release();
        }
      };
      await Promise.all(Array.from({ length: MIGRATION_CONCURRENCY }, worker));
    } finally {
      await owner.end();
    }
    migrateMs = Date.now() - started;
  }, 90_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('serves every tenant its own rows while connections stay within the budget', async () => {
    const { rows: schemas } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema LIKE 'tenant\\_budget\\_%' AND table_name = 'products'`,
    );
    expect(schemas[0]?.n).toBe(TENANTS);

    // The connect timeout is raised from the production 10 s: 200 cold clients compiling their first
    // queries on a loaded 2-CPU CI box can queue a request for longer than that, and this test is
    // about how many connections there are, not how fast a queued request gets one.
    const pool = createAppPool(db.url, BUDGET, TEST_APP_ROLE, { application_name: APP_NAME, connectionTimeoutMillis: 45_000 });
    const tenants = new TenantClients(pool, MAX_CLIENTS);
    const sampler = new Client({ connectionString: db.url, application_name: 'umi_budget_sampler' });
    sampler.on('error', () => {});
    await sampler.connect();
    const peaks: Peaks = { poolTotal: 0, poolWaiting: 0, connectEvents: 0, pgApp: 0, pgNew: 0, samples: 0 };
    const countBackends = async (before: number[]): Promise<{ app: number; fresh: number; pids: number[] }> => {
      const { rows } = await sampler.query<{ app: number; fresh: number; pids: number[] }>(
        `SELECT count(*) FILTER (WHERE application_name = $1)::int AS app,
                count(*) FILTER (WHERE pid <> ALL ($2::int[]))::int AS fresh,
                array_agg(pid) AS pids
           FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
        [APP_NAME, before],
      );
      return rows[0]!;
    };
    pool.on('connect', () => {
      peaks.connectEvents += 1;
      peaks.poolTotal = Math.max(peaks.poolTotal, pool.totalCount);
    });

    try {
      // Before the load nothing of the app pool exists; whatever is connected now is the owner's.
      const baseline = await countBackends([]);
      expect(baseline.app).toBe(0);

      let running = true;
      const poolSampler = setInterval(() => {
        peaks.poolTotal = Math.max(peaks.poolTotal, pool.totalCount);
        peaks.poolWaiting = Math.max(peaks.poolWaiting, pool.waitingCount);
      }, 2);
      const pgSampling = (async () => {
        while (running) {
          const now = await countBackends(baseline.pids);
          peaks.samples += 1;
          peaks.pgApp = Math.max(peaks.pgApp, now.app);
          peaks.pgNew = Math.max(peaks.pgNew, now.fresh);
        }
      })();

      const mismatches: string[] = [];
      const failures: string[] = [];
      let operations = 0;
      const loadStarted = Date.now();
      try {
        // Every session runs to its end (no early rejection), so the pools close only when idle.
        await Promise.all(
          Array.from({ length: TENANTS }, async (_, i) => {
            // One client per tenant session, taken from the cache once: 200 sessions share room for
            // 50, so 150 are evicted while still in use (their grace period keeps them working).
            const client = tenants.get(schemaOf(i));
            const other = skuOf((i + 1) % TENANTS);
            for (let round = 0; round < ROUNDS; round++) {
              try {
                const products = await client.product.findMany({ select: { sku: true } });
                operations += 1;
                if (products.length !== 1 || products[0]?.sku !== skuOf(i)) mismatches.push(`${schemaOf(i)} read ${JSON.stringify(products)}`);

                const seen = await client.$transaction(
                  async (tx) => {
                    const value = { tenant: i, round };
                    await tx.tenantSetting.upsert({ where: { key: 'budget_probe' }, create: { key: 'budget_probe', value }, update: { value } });
                    await tx.product.update({ where: { sku: skuOf(i) }, data: { description: `round ${round}` } });
                    const foreign = await tx.product.findUnique({ where: { sku: other } });
                    const setting = await tx.tenantSetting.findUniqueOrThrow({ where: { key: 'budget_probe' } });
                    return { foreign, setting: setting.value as { tenant: number; round: number } };
                  },
                  { maxWait: 30_000, timeout: 30_000 },
                );
                operations += 1;
                if (seen.foreign !== null) mismatches.push(`${schemaOf(i)} found ${other}`);
                if (seen.setting.tenant !== i || seen.setting.round !== round) mismatches.push(`${schemaOf(i)} read setting ${JSON.stringify(seen.setting)}`);
              } catch (err) {
                failures.push(`${schemaOf(i)} round ${round}: ${(err as Error).message}`);
              }
            }
          }),
        );
      } finally {
        running = false;
        clearInterval(poolSampler);
        await pgSampling;
      }
      const loadMs = Date.now() - loadStarted;
      const afterLoad = tenants.stats();
      process.stdout.write(
        `\n[tenant-clients budget] ${TENANTS} tenant schemas migrated in ${migrateMs} ms; ${operations} operations in ${loadMs} ms; ` +
          `budget ${BUDGET}: pool.totalCount max ${peaks.poolTotal}, connections opened ${peaks.connectEvents}, ` +
          `pg_stat_activity app max ${peaks.pgApp}, new backends max ${peaks.pgNew} (${peaks.samples} samples, ${baseline.pids.length} owner backends before); ` +
          `max waiting ${peaks.poolWaiting}; clients cached ${afterLoad.cached}, created ${afterLoad.created}; rss ${Math.round(process.memoryUsage().rss / 1e6)} MB\n`,
      );

      expect({ failed: failures.length, first: failures.slice(0, 5) }).toEqual({ failed: 0, first: [] });
      expect({ mismatched: mismatches.length, first: mismatches.slice(0, 5) }).toEqual({ mismatched: 0, first: [] });
      expect(operations).toBe(TENANTS * ROUNDS * 2);

      // The cache keeps the 50 most recently taken clients (the sessions took theirs in order, so
      // tenants 150..199): asking again for those reuses them and creates nothing.
      const hot = Array.from({ length: MAX_CLIENTS }, (_, k) => schemaOf(TENANTS - MAX_CLIENTS + k));
      expect(tenants.get(hot[0]!)).toBe(tenants.get(hot[0]!));
      const hotCounts = await Promise.all(hot.map((schema) => tenants.get(schema).product.count()));
      expect(hotCounts).toEqual(hot.map(() => 1));
      expect(tenants.stats()).toEqual(afterLoad);

      // The app pool's connections take the non-owner application role.
      const roles = await tenants.get(hot[0]!).$queryRaw<{ role: string }[]>`SELECT current_user::text AS role`;
      expect(roles).toEqual([{ role: TEST_APP_ROLE }]);

      // Every write landed in its own tenant's schema, and only there.
      const { rows: written } = await db.pool.query<{ schema: string; tenant: number; round: number; description: string }>(
        Array.from(
          { length: TENANTS },
          (_, i) =>
            `SELECT '${schemaOf(i)}' AS schema, (s.value->>'tenant')::int AS tenant, (s.value->>'round')::int AS round, p.description
               FROM "${schemaOf(i)}".tenant_settings s, "${schemaOf(i)}".products p WHERE s.key = 'budget_probe'`,
        ).join(' UNION ALL '),
      );
      expect(written).toHaveLength(TENANTS);
      for (const row of written) {
        const i = Number(row.schema.slice(-3));
        expect(row).toEqual({ schema: schemaOf(i), tenant: i, round: ROUNDS - 1, description: `round ${ROUNDS - 1}` });
      }

      // The budget held, by every measure, and it was the binding limit (requests queued for it).
      expect(peaks.poolTotal).toBeLessThanOrEqual(BUDGET);
      expect(peaks.connectEvents).toBeLessThanOrEqual(BUDGET);
      expect(peaks.pgApp).toBeLessThanOrEqual(BUDGET);
      expect(peaks.pgNew).toBeLessThanOrEqual(BUDGET);
      expect(peaks.samples).toBeGreaterThan(0);
      expect(peaks.pgApp).toBeGreaterThan(0);
      expect(peaks.poolWaiting).toBeGreaterThan(0);
      // The cache stayed bounded while every tenant got a client of its own.
      expect(afterLoad.cached).toBeLessThanOrEqual(MAX_CLIENTS);
      expect(afterLoad.created).toBeGreaterThanOrEqual(TENANTS);
    } finally {
      await sampler.end();
      try {
        await tenants.close();
      } finally {
        await pool.end();
      }
    }
  }, 90_000);
});
