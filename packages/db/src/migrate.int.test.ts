import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { applyMigrations, inTransaction, lockTenantSchema, migrateAll, loadMigrations, pendingTenantSchemas } from './migrate';
import { createTenantProvisioner } from './provision';

describe('migration runner', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('records every shared migration once and applies nothing on a second run', async () => {
    const { rows } = await db.pool.query('SELECT name FROM shared.umi_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(loadMigrations('shared').map((m) => m.name));
    const again = await migrateAll(db.pool, TEST_APP_ROLE);
    expect(again.shared).toEqual([]);
  });

  it('serialises concurrent runners with the advisory lock', async () => {
    const client = await db.pool.connect();
    await inTransaction(client, async () => {
      await client.query(`INSERT INTO shared.tenants (name, subdomain, schema_name, plan, max_branches, max_users)
        VALUES ('Lock Test', 'locktest', 'tenant_locktest', 'basic', 1, 10)`);
      await applyMigrations(client, 'tenant', 'tenant_locktest', TEST_APP_ROLE);
    });
    client.release();
    const pools = [0, 1, 2].map(() => new Pool({ connectionString: db.url, max: 1 }));
    const reports = await Promise.all(pools.map((p) => migrateAll(p, TEST_APP_ROLE)));
    await Promise.all(pools.map((p) => p.end()));
    expect(reports.every((r) => r.shared.length === 0 && r.pending === 0 && r.checked === 1)).toBe(true);
  });

  it('refuses a migration whose file changed after it was applied', async () => {
    await db.pool.query(`UPDATE shared.umi_migrations SET checksum = 'tampered' WHERE name = $1`, [loadMigrations('shared')[0]!.name]);
    await expect(migrateAll(db.pool, TEST_APP_ROLE)).rejects.toThrow(/changed after it was applied/);
  });

  describe('with many tenants', () => {
    const provisioner = () => createTenantProvisioner(db.url, TEST_APP_ROLE);
    const tenant = (subdomain: string) => ({
      name: subdomain,
      subdomain,
      plan: 'basic',
      admin: { email: `admin@${subdomain}.test`, passwordHash: 'x', firstName: 'A', lastName: 'B' },
    });
    const audit = { userId: randomUUID(), ipAddress: null, userAgent: null, correlationId: null };
    // The test above tampered with a checksum on purpose: put it back.
    beforeAll(async () => {
      const first = loadMigrations('shared')[0]!;
      await db.pool.query('UPDATE shared.umi_migrations SET checksum = $2 WHERE name = $1', [first.name, first.checksum]);
    });
    /** Marks schemas as behind in the directory only (their tables stay as they are). */
    const markBehind = (schemas: string[]) =>
      db.pool.query(`UPDATE shared.tenants SET schema_migrations = schema_migrations[1:cardinality(schema_migrations) - 1] WHERE schema_name = ANY($1)`, [schemas]);

    it('provisions in parallel: four tenants are inside their transactions at the same time', async () => {
      const p = provisioner();
      let inside = 0;
      let release!: () => void;
      const all = new Promise<void>((resolve) => (release = resolve));
      const barrier = async () => {
        if (++inside === 4) release();
        // Under one global lock only the first would ever get here: the barrier would time out.
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([all, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${inside} of 4 provisionings ran at once`)), 20_000)))]);
        } finally {
          clearTimeout(timer);
        }
      };
      try {
        const ids = await Promise.all(['par-a', 'par-b', 'par-c', 'par-d'].map((s) => p.provision(tenant(s), audit as never, { beforeCommit: barrier })));
        expect(new Set(ids).size).toBe(4);
      } finally {
        await p.close();
      }
      const c = await db.pool.connect();
      try {
        const { pending, checked } = await pendingTenantSchemas(c);
        expect(pending).toEqual([]);
        expect(checked).toBeGreaterThanOrEqual(4);
      } finally {
        c.release();
      }
    }, 60_000);

    it('checks every schema in one query, migrates those behind with bounded parallelism, and resumes after a crash', async () => {
      const behind = ['tenant_par_a', 'tenant_par_b', 'tenant_par_c'];
      await markBehind(behind);
      let seen = 0;
      await expect(
        migrateAll(db.pool, TEST_APP_ROLE, {
          concurrency: 1,
          onProgress() {
            if (++seen === 1) throw new Error('crash after the first schema');
          },
        }),
      ).rejects.toThrow(/crash/);
      const c = await db.pool.connect();
      try {
        expect((await pendingTenantSchemas(c)).pending).toHaveLength(2);
      } finally {
        c.release();
      }
      const progress: string[] = [];
      const resumed = await migrateAll(db.pool, TEST_APP_ROLE, { concurrency: 2, onProgress: (done, total) => progress.push(`${done}/${total}`) });
      expect(resumed.pending).toBe(2);
      expect(progress).toEqual(['1/2', '2/2']);
      const idle = await migrateAll(db.pool, TEST_APP_ROLE);
      expect(idle).toMatchObject({ shared: [], tenants: {}, pending: 0 });
      expect(idle.checked).toBeGreaterThanOrEqual(5);
    }, 60_000);

    it('never blocks provisioning while a tenant schema migrates', async () => {
      await markBehind(['tenant_par_d']);
      // Another session is migrating tenant_par_d (holds its lock): the runner waits on that schema...
      const holder = await db.pool.connect();
      await holder.query('BEGIN');
      await lockTenantSchema(holder, 'tenant_par_d');
      const run = migrateAll(db.pool, TEST_APP_ROLE, { concurrency: 1 });
      await new Promise((r) => setTimeout(r, 500));
      // ...and a new tenant is provisioned meanwhile, without waiting for it.
      const p = provisioner();
      try {
        const started = Date.now();
        await p.provision(tenant('par-e'), audit as never);
        expect(Date.now() - started).toBeLessThan(15_000);
        let finished = false;
        void run.then(() => (finished = true));
        await new Promise((r) => setTimeout(r, 200));
        expect(finished).toBe(false);
      } finally {
        await holder.query('COMMIT');
        holder.release();
        await p.close();
      }
      expect((await run).pending).toBe(1);
    }, 60_000);
  });
});
