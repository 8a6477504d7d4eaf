import { createTestDatabase, TEST_APP_ROLE, type TestDatabase } from '@umi/testkit/database';
import { createAppPool } from './pools';
import { createSharedClient, sharedTx, type SharedClient } from './shared-db';
import type { Pool } from 'pg';

/** Row-level security is the second wall: even a query that forgets its tenant filter sees one tenant. */
describe('row-level security on shared tables', () => {
  let db: TestDatabase;
  let pool: Pool;
  let shared: SharedClient;
  const ids: Record<'a' | 'b', string> = { a: '', b: '' };

  beforeAll(async () => {
    db = await createTestDatabase();
    for (const k of ['a', 'b'] as const) {
      const t = await db.pool.query<{ id: string }>(
        `INSERT INTO shared.tenants (name, subdomain, schema_name, plan, max_branches, max_users) VALUES ($1, $2, $3, 'basic', 5, 5) RETURNING id`,
        [`Tenant ${k}`, `rls-${k}-x`, `tenant_rls_${k}_x`],
      );
      ids[k] = t.rows[0]!.id;
      await db.pool.query(`INSERT INTO shared.branches (tenant_id, name, code) VALUES ($1, 'Main', 'MAIN')`, [ids[k]]);
    }
    pool = createAppPool(db.url, 2, TEST_APP_ROLE);
    shared = createSharedClient(pool);
  });
  afterAll(async () => {
    await shared.$disconnect();
    await pool.end();
    await db.drop();
  });

  it('shows an unfiltered query only the scoped tenant’s rows, and nothing without a scope', async () => {
    const seen = await sharedTx(shared, { kind: 'tenant', tenantId: ids.a }, (tx) => tx.branch.findMany());
    expect(seen.map((b) => b.tenantId)).toEqual([ids.a]);
    const none = await shared.branch.findMany();
    expect(none).toEqual([]);
    const all = await sharedTx(shared, { kind: 'platform' }, (tx) => tx.branch.findMany());
    expect(all).toHaveLength(2);
  });

  it('refuses to write a row of another tenant', async () => {
    await expect(
      sharedTx(shared, { kind: 'tenant', tenantId: ids.a }, (tx) => tx.branch.create({ data: { tenantId: ids.b, name: 'Sneaky', code: 'SNEAK' } })),
    ).rejects.toThrow();
    const updated = await sharedTx(shared, { kind: 'tenant', tenantId: ids.a }, (tx) => tx.branch.updateMany({ where: { tenantId: ids.b }, data: { name: 'Hijacked' } }));
    expect(updated.count).toBe(0);
  });

  it('does not leak the scope to the next transaction on the same connection', async () => {
    await sharedTx(shared, { kind: 'tenant', tenantId: ids.a }, (tx) => tx.branch.findMany());
    const after = await Promise.all([shared.branch.findMany(), shared.branch.findMany()]);
    expect(after.flat()).toEqual([]);
  });

  it('runs the application as a role that owns nothing and cannot bypass RLS', async () => {
    const { rows } = await pool.query(`SELECT current_user AS u, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user`);
    expect(rows[0]).toEqual({ u: TEST_APP_ROLE, rolsuper: false, rolbypassrls: false });
  });
});
