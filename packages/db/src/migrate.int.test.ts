import { Pool } from 'pg';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { applyMigrations, inTransaction, migrateAll, loadMigrations } from './migrate';

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
    expect(reports.every((r) => r.shared.length === 0 && r.tenants.tenant_locktest?.length === 0)).toBe(true);
  });

  it('refuses a migration whose file changed after it was applied', async () => {
    await db.pool.query(`UPDATE shared.umi_migrations SET checksum = 'tampered' WHERE name = $1`, [loadMigrations('shared')[0]!.name]);
    await expect(migrateAll(db.pool, TEST_APP_ROLE)).rejects.toThrow(/changed after it was applied/);
  });
});
