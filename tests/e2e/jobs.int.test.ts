import { tenantSchemaName } from '@umi/db';
import { addDays, createLogger, dateInZone } from '@umi/kit';
import { startJobRunner, tenantJob, JOBS, type JobRunner } from '@umi/platform';
import { contractOperation, createTenant, registerBreaks, ledgerBreaks, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const TODAY = dateInZone('Africa/Lusaka');
const inDays = (n: number) => addDays(TODAY, n);

/**
 * The scheduled jobs on pg-boss, against the real database: runs are triggered directly (no cron
 * minutes), two runners share the work, and each tenant's run of a period exists once.
 */
describe('scheduled jobs', () => {
  let p: TestPlatform;
  let a: TenantFixture;
  let b: TenantFixture;
  let r1: JobRunner;
  let r2: JobRunner;
  let attempts = 0;
  const flaky = tenantJob('test_always_fails', '0 0 1 1 *', 'day', 'fails on purpose', async () => {
    attempts += 1;
    throw new Error('boom');
  }, { retryLimit: 2, retryDelaySeconds: 0 });
  const definitions = [...JOBS, flaky];

  const schemaOf = (t: TenantFixture) => tenantSchemaName(t.subdomain);

  async function product(t: TenantFixture, sku: string, controlled: boolean): Promise<string> {
    const r = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku, name: `${controlled ? 'Morphine' : 'Paracetamol'} ${sku}`, genericName: controlled ? 'morphine' : 'paracetamol', requiresPrescription: controlled, controlledSubstance: controlled } },
      { token: t.adminToken },
    );
    return r.createProduct.id;
  }

  /** A batch received a year out, then dated `expiry` in SQL (receiving refuses expired stock). */
  async function batch(t: TenantFixture, productId: string, batchNumber: string, quantity: number, expiry: string): Promise<string> {
    const r = await p.ok<{ receiveStock: { id: string } }>(
      op('ReceiveStock'),
      { input: { branchId: t.branches[0]!.id, productId, batchNumber, expiryDate: inDays(365), quantity, costPrice: '5.00', sellingPrice: '10.00' } },
      { token: t.adminToken },
    );
    await p.db.pool.query(`UPDATE "${schemaOf(t)}".inventory_batches SET expiry_date = $2::date WHERE id = $1`, [r.receiveStock.id, expiry]);
    return r.receiveStock.id;
  }

  async function runBoth(name: string, opts: { tenantIds?: string[]; at?: Date } = {}): Promise<{ ids: string[]; states: Record<string, string> }> {
    // Both runners fan out the same period at once, as two processes whose crons fired together would.
    const [x, y] = await Promise.all([r1.trigger(name, opts), r2.trigger(name, opts)]);
    const ids = [...x, ...y];
    return { ids, states: await r1.settle(name, ids) };
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    [a, b] = [await createTenant(p, { branchCount: 1 }), await createTenant(p, { branchCount: 1 })];
    const env = { ...p.env, JOBS_POLL_SECONDS: 0.5, JOBS_CONCURRENCY: 2 };
    const logger = createLogger('jobs-test', 'silent');
    r1 = await startJobRunner({ env, logger, definitions, schedule: false });
    r2 = await startJobRunner({ env, logger, definitions, schedule: false });
  }, 120_000);

  afterAll(async () => {
    await r1?.close();
    await r2?.close();
    await p?.close();
  });

  it('writes off expired stock with movements and register lines for a controlled product, once, and leaves other tenants alone', async () => {
    const morphine = await product(a, 'MOR-EXP', true);
    const para = await product(a, 'PAR-EXP', false);
    const expiredControlled = await batch(a, morphine, 'M-OLD', 7, inDays(-1));
    const expiredPlain = await batch(a, para, 'P-OLD', 5, inDays(-3));
    const fresh = await batch(a, para, 'P-NEW', 4, inDays(200));
    const otherTenant = await batch(b, await product(b, 'PAR-B', false), 'B-OLD', 9, inDays(-1));

    const first = await runBoth('inventory_expiry_write_off', { tenantIds: [a.id] });
    // Two runners fanned out the same period: one run for the tenant, which completed.
    expect(Object.values(first.states)).toEqual(['completed']);

    const sa = schemaOf(a);
    const batches = await p.db.pool.query(`SELECT id::text, quantity_on_hand, status FROM "${sa}".inventory_batches ORDER BY batch_number`);
    expect(Object.fromEntries(batches.rows.map((r) => [r.id, [r.quantity_on_hand, r.status]]))).toEqual({
      [expiredControlled]: [0, 'EXPIRED'],
      [expiredPlain]: [0, 'EXPIRED'],
      [fresh]: [4, 'AVAILABLE'],
    });
    const movements = await p.db.pool.query(`SELECT batch_id::text, quantity, user_id FROM "${sa}".stock_movements WHERE type = 'EXPIRY_WRITE_OFF' ORDER BY quantity`);
    expect(movements.rows).toEqual([
      { batch_id: expiredControlled, quantity: -7, user_id: null },
      { batch_id: expiredPlain, quantity: -5, user_id: null },
    ]);
    const register = await p.db.pool.query(`SELECT batch_id::text, quantity, balance_after, pharmacist_id, witness_id, reference FROM "${sa}".controlled_register WHERE quantity < 0`);
    expect(register.rows).toEqual([{ batch_id: expiredControlled, quantity: -7, balance_after: 0, pharmacist_id: null, witness_id: null, reference: 'EXPIRY' }]);
    const audit = await p.db.pool.query(`SELECT user_id::text, metadata FROM "${sa}".audit_logs WHERE action = 'WRITE_OFF_EXPIRED'`);
    expect(audit.rows).toEqual([{ user_id: '00000000-0000-0000-0000-000000000000', metadata: { actor: 'system:jobs', job: 'inventory_expiry_write_off' } }]);
    expect(await ledgerBreaks(p.db.pool, sa)).toEqual([]);
    expect(await registerBreaks(p.db.pool, sa)).toEqual([]);

    // The other tenant's expired batch is untouched: the run was tenant A's alone.
    const other = await p.db.pool.query(`SELECT quantity_on_hand, status FROM "${schemaOf(b)}".inventory_batches WHERE id = $1`, [otherTenant]);
    expect(other.rows).toEqual([{ quantity_on_hand: 9, status: 'AVAILABLE' }]);

    // The same period again: no new run. A later period: a run, which finds nothing to do.
    expect(await r1.trigger('inventory_expiry_write_off', { tenantIds: [a.id] })).toEqual([]);
    const later = await runBoth('inventory_expiry_write_off', { tenantIds: [a.id], at: new Date(Date.now() + 3_600_000) });
    expect(Object.values(later.states)).toEqual(['completed']);
    const count = await p.db.pool.query(`SELECT count(*)::int AS n FROM "${sa}".stock_movements WHERE type = 'EXPIRY_WRITE_OFF'`);
    expect(count.rows[0].n).toBe(2);
  });

  it('fans out one run per active tenant however many runners fan out, each run once', async () => {
    const at = new Date(Date.now() + 2 * 86_400_000);
    const { states } = await runBoth('events_outbox_sweep', { at });
    expect(Object.values(states).sort()).toEqual(['completed', 'completed']);
    const runs = await p.db.pool.query(
      `SELECT data->>'tenantId' AS tenant, count(*)::int AS n FROM pgboss.job WHERE name = 'events_outbox_sweep' AND data->>'period' = $1 GROUP BY 1 ORDER BY 1`,
      [at.toISOString().slice(0, 16)],
    );
    expect(runs.rows).toEqual([a.id, b.id].sort().map((tenant) => ({ tenant, n: 1 })));
  });

  it('runs the retention and upkeep jobs per tenant: the audit archive, anonymisation, the register purge and sale partitions', async () => {
    for (const [name, runs] of [['tenant_audit_archive', 2], ['pharmacy_patient_anonymise', 2], ['pharmacy_register_retention', 2], ['db_sale_partitions', 2]] as const) {
      const { states } = await runBoth(name);
      expect([name, Object.values(states)]).toEqual([name, Array(runs).fill('completed')]);
    }
  });

  it('warns of expiring batches once per threshold', async () => {
    const drug = await product(b, 'AMOX-W', false);
    const soon = await batch(b, drug, 'W-25', 3, inDays(25));
    const mid = await batch(b, drug, 'W-45', 3, inDays(45));
    await batch(b, drug, 'W-200', 3, inDays(200));
    const events = () =>
      p.db.pool
        .query(`SELECT aggregate_id::text AS batch, payload->'data'->>'thresholdDays' AS threshold FROM "${schemaOf(b)}".outbox WHERE event_type = 'inventory.expiry_warning' ORDER BY 1`)
        .then((r) => r.rows);

    await runBoth('inventory_expiry_warning', { tenantIds: [b.id] });
    const expected = [
      { batch: soon, threshold: '30' },
      { batch: mid, threshold: '60' },
    ].sort((x, y) => x.batch.localeCompare(y.batch));
    expect(await events()).toEqual(expected);

    // Later runs say nothing new, until a batch reaches its next threshold.
    await runBoth('inventory_expiry_warning', { tenantIds: [b.id], at: new Date(Date.now() + 3_600_000) });
    expect(await events()).toEqual(expected);
    await p.db.pool.query(`UPDATE "${schemaOf(b)}".inventory_batches SET expiry_date = $2::date WHERE id = $1`, [mid, inDays(29)]);
    await runBoth('inventory_expiry_warning', { tenantIds: [b.id], at: new Date(Date.now() + 7_200_000) });
    expect((await events()).filter((e) => e.batch === mid).map((e) => e.threshold).sort()).toEqual(['30', '60']);
    const remembered = await p.db.pool.query(`SELECT threshold_days FROM shared.expiry_warnings WHERE batch_id = $1 ORDER BY 1`, [soon]);
    expect(remembered.rows.map((r) => r.threshold_days)).toEqual([30, 60, 90]);
  });

  it('retries a failing job, then shows it failed in jobQueues and in the metrics', async () => {
    const { ids, states } = await runBoth('test_always_fails', { tenantIds: [a.id] });
    expect(Object.values(states)).toEqual(['failed']);
    const job = await r1.boss.getJobById('test_always_fails', ids[0]!, { includeArchive: true });
    expect(job?.retryCount).toBe(2);
    expect(attempts).toBe(3);

    const token = await p.loginSuperAdmin();
    const q = await p.ok<{ jobQueues: { name: string; pending: number; active: number; failed: number; completed: number; oldestPendingSeconds: number }[] }>(
      '{ jobQueues { name pending active failed completed oldestPendingSeconds } }',
      {},
      { token },
    );
    expect(q.jobQueues.find((x) => x.name === 'test_always_fails')).toEqual({ name: 'test_always_fails', pending: 0, active: 0, failed: 1, completed: 0, oldestPendingSeconds: 0 });
    expect(q.jobQueues.find((x) => x.name === 'inventory_expiry_write_off')?.completed).toBeGreaterThanOrEqual(2);
    // A tenant's ADMIN may not see the platform's queues.
    const denied = await p.gql('{ jobQueues { name } }', {}, { token: a.adminToken });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const text = await r1.metrics.text();
    expect(text).toMatch(/jobs_failed\{queue="test_always_fails",service="jobs"\} 1/);
    expect(text).toMatch(/jobs_pending\{queue="inventory_expiry_warning",service="jobs"\} 0/);
    const failedHere = (await r1.metrics.registry.getSingleMetric('jobs_failed_total')!.get()).values.find((v) => v.labels.queue === 'test_always_fails')?.value ?? 0;
    const failedThere = (await r2.metrics.registry.getSingleMetric('jobs_failed_total')!.get()).values.find((v) => v.labels.queue === 'test_always_fails')?.value ?? 0;
    expect(failedHere + failedThere).toBe(3);
  });

  it('refuses the queue status outside the platform scope', async () => {
    await expect(p.db.pool.query('SELECT * FROM shared.job_queue_status()')).rejects.toThrow(/platform scope/);
  });
});
