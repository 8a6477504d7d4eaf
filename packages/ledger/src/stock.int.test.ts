// The stock ledger against a real tenant schema: FEFO order, expired and held batches never
// allocated, all-or-nothing allocation, the ledger invariant (on hand = sum of movements), the
// low-stock event once per crossing, the controlled register's running balance, and 20 concurrent
// allocations competing for the last 5 units.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { addDays } from '@umi/kit';
import { applyMigrations, createAppPool, inTransaction, TenantClients, type TenantDb } from '@umi/db';
import { allocateStock, moveBatches, receiveStock, type StockActor } from './stock';

const SCHEMA = 'tenant_stock_test';
const TODAY = '2026-06-01';
const BRANCH = randomUUID();
const OTHER_BRANCH = randomUUID();

describe('stock ledger', () => {
  let db: TestDatabase;
  let pool: Pool;
  let clients: TenantClients;
  let client: TenantDb;
  const actor: StockActor = { tenantId: randomUUID(), userId: randomUUID(), correlationId: 'test', service: 'inventory' };

  async function product(sku: string, opts: { controlled?: boolean; reorderLevel?: number } = {}): Promise<string> {
    const { rows } = await db.pool.query(`INSERT INTO ${SCHEMA}.products (sku, name, controlled_substance, requires_prescription) VALUES ($1, $1, $2, $2) RETURNING id`, [
      sku,
      opts.controlled ?? false,
    ]);
    const id = rows[0].id as string;
    if (opts.reorderLevel !== undefined) {
      await db.pool.query(`INSERT INTO ${SCHEMA}.product_branch_settings (product_id, branch_id, reorder_level) VALUES ($1, $2, $3)`, [
        id,
        BRANCH,
        opts.reorderLevel,
      ]);
    }
    return id;
  }

  const receive = (productId: string, batchNumber: string, expiryDate: string, quantity: number, branchId = BRANCH) =>
    client.transaction((tx) =>
      receiveStock(tx, actor, {
        branchId,
        productId,
        batchNumber,
        expiryDate,
        quantity,
        costPrice: '1.00',
        sellingPrice: '2.50',
        today: TODAY,
        type: 'GRN',
        reference: 'GRN-TEST',
        referenceId: null,
      }),
    );

  const allocate = (productId: string, quantity: number, branchId = BRANCH) =>
    client.transaction((tx) =>
      allocateStock(tx, actor, { branchId, today: TODAY, type: 'SALE', lines: [{ productId, quantity }], reference: 'S-1', referenceId: null }),
    );

  async function onHand(productId: string, branchId = BRANCH): Promise<number> {
    const { rows } = await db.pool.query(
      `SELECT coalesce(sum(quantity_on_hand), 0)::int AS n FROM ${SCHEMA}.inventory_batches WHERE product_id = $1 AND branch_id = $2`,
      [productId, branchId],
    );
    return rows[0].n;
  }

  /** Batches whose quantity on hand differs from the sum of their movements (must be none). */
  async function ledgerBreaks(): Promise<unknown[]> {
    const { rows } = await db.pool.query(
      `SELECT b.id, b.quantity_on_hand, coalesce(sum(m.quantity), 0)::int AS ledger
       FROM ${SCHEMA}.inventory_batches b LEFT JOIN ${SCHEMA}.stock_movements m ON m.batch_id = b.id
       GROUP BY b.id HAVING b.quantity_on_hand <> coalesce(sum(m.quantity), 0)`,
    );
    return rows;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const owner = await db.pool.connect();
    try {
      await inTransaction(owner, () => applyMigrations(owner, 'tenant', SCHEMA, TEST_APP_ROLE));
    } finally {
      owner.release();
    }
    pool = createAppPool(db.url, 24, TEST_APP_ROLE);
    clients = new TenantClients(pool, 4);
    client = clients.db(SCHEMA);
  });

  afterAll(async () => {
    expect(await ledgerBreaks()).toEqual([]);
    await clients.close();
    await pool.end();
    await db.drop();
  });

  it('receives into a new batch with a GRN movement, and refuses expired stock and a second expiry for one lot', async () => {
    const p = await product('RCV-1');
    const r = await receive(p, 'LOT-A', '2027-01-31', 10);
    expect(r.movements).toEqual([expect.objectContaining({ type: 'GRN', quantity: 10, balanceAfter: 10, batchId: r.batchId })]);
    const again = await receive(p, 'LOT-A', '2027-01-31', 5);
    expect(again.batchId).toBe(r.batchId);
    expect(again.movements[0]!.balanceAfter).toBe(15);

    await expect(receive(p, 'LOT-OLD', TODAY, 5)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    await expect(receive(p, 'LOT-A', '2027-02-28', 5)).rejects.toMatchObject({ extensions: { code: 'CONFLICT', reason: 'BATCH_EXPIRY_MISMATCH' } });
    await expect(receive(p, 'LOT-B', '2027-01-31', 0)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(await onHand(p)).toBe(15);
  });

  it('allocates first-expiry-first-out across batches, never from expired or held batches', async () => {
    const p = await product('FEFO-1');
    await receive(p, 'LATE', '2027-12-31', 10);
    await receive(p, 'SOON', '2026-08-31', 3);
    await receive(p, 'MID', '2027-03-31', 4);
    await receive(p, 'HELD', '2026-07-01', 50);
    await receive(p, 'EXPIRING', addDays(TODAY, 1), 20);
    await db.pool.query(`UPDATE ${SCHEMA}.inventory_batches SET status = 'ON_HOLD' WHERE batch_number = 'HELD' AND product_id = $1`, [p]);
    // EXPIRING is usable today; allocating on its expiry date must skip it.
    const next = (quantity: number) =>
      client.transaction((tx) =>
        allocateStock(tx, actor, { branchId: BRANCH, today: addDays(TODAY, 1), type: 'SALE', lines: [{ productId: p, quantity }], reference: null, referenceId: null }),
      );

    const a = await next(5);
    expect(a.movements.map((m) => [m.batchNumber, m.taken])).toEqual([
      ['SOON', 3],
      ['MID', 2],
    ]);
    expect(a.movements.every((m) => m.type === 'SALE' && m.quantity < 0)).toBe(true);
    const b = await next(12);
    expect(b.movements.map((m) => [m.batchNumber, m.taken])).toEqual([
      ['MID', 2],
      ['LATE', 10],
    ]);
    await expect(next(1)).rejects.toMatchObject({ extensions: { code: 'CONFLICT', reason: 'INSUFFICIENT_STOCK', available: 0 } });
    expect(await onHand(p)).toBe(70); // HELD and EXPIRING untouched
  });

  it('is all or nothing: a short line rolls back the lines before it', async () => {
    const p1 = await product('AON-1');
    const p2 = await product('AON-2');
    await receive(p1, 'L1', '2027-01-01', 5);
    await receive(p2, 'L2', '2027-01-01', 2);
    const { rows: before } = await db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.stock_movements`);
    await expect(
      client.transaction((tx) =>
        allocateStock(tx, actor, {
          branchId: BRANCH,
          today: TODAY,
          type: 'SALE',
          lines: [
            { productId: p1, quantity: 4 },
            { productId: p2, quantity: 3 },
          ],
          reference: null,
          referenceId: null,
        }),
      ),
    ).rejects.toMatchObject({ extensions: { code: 'CONFLICT', productId: p2, requested: 3, available: 2 } });
    const { rows: after } = await db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.stock_movements`);
    expect(after[0].n).toBe(before[0].n);
    expect(await onHand(p1)).toBe(5);
    // Stock at another branch is not this branch's stock.
    await receive(p2, 'L2', '2027-01-01', 50, OTHER_BRANCH);
    await expect(allocate(p2, 3)).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
  });

  it('20 concurrent allocations for the last 5 units: exactly 5 go out, the rest fail cleanly, stock ends at 0', async () => {
    const p = await product('RACE-1');
    await receive(p, 'R1', '2027-01-01', 3);
    await receive(p, 'R2', '2027-02-01', 2);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => allocate(p, 1)));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(5);
    expect(lost).toHaveLength(15);
    for (const r of lost) expect(r.reason).toMatchObject({ extensions: { code: 'CONFLICT', reason: 'INSUFFICIENT_STOCK' } });
    expect(await onHand(p)).toBe(0);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, coalesce(sum(quantity), 0)::int AS total, min(balance_after)::int AS min FROM ${SCHEMA}.stock_movements WHERE product_id = $1 AND type = 'SALE'`,
      [p],
    );
    expect(rows[0]).toEqual({ n: 5, total: -5, min: 0 });
  });

  it('refuses an adjustment below zero and writes nothing', async () => {
    const p = await product('ADJ-1');
    const r = await receive(p, 'A1', '2027-01-01', 4);
    const adjust = (delta: number) =>
      client.transaction((tx) =>
        moveBatches(tx, actor, { branchId: BRANCH, today: TODAY, moves: [{ batchId: r.batchId, delta, type: 'ADJUSTMENT', reason: 'damaged' }] }),
      );
    await expect(adjust(-5)).rejects.toMatchObject({ extensions: { code: 'CONFLICT', reason: 'INSUFFICIENT_STOCK' } });
    const ok = await adjust(-4);
    expect(ok.movements[0]).toMatchObject({ quantity: -4, balanceAfter: 0 });
    await expect(
      client.transaction((tx) =>
        moveBatches(tx, actor, { branchId: OTHER_BRANCH, today: TODAY, moves: [{ batchId: r.batchId, delta: 1, type: 'ADJUSTMENT', reason: 'x' }] }),
      ),
    ).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });

  it('records inventory.low_stock once per crossing of the reorder level', async () => {
    const p = await product('LOW-1', { reorderLevel: 3 });
    await receive(p, 'L', '2027-01-01', 5);
    const crossings: number[] = [];
    for (let i = 0; i < 4; i++) crossings.push((await allocate(p, 1)).lowStock.length); // 4, 3, 2, 1 left
    expect(crossings).toEqual([0, 1, 0, 0]);
    await receive(p, 'L', '2027-01-01', 9); // 10: back above
    expect((await allocate(p, 6)).lowStock).toEqual([]); // 4
    const again = await allocate(p, 1); // 3: crossed again
    expect(again.lowStock).toEqual([expect.objectContaining({ productId: p, branchId: BRANCH, quantityAvailable: 3, reorderLevel: 3 })]);
    const { rows } = await db.pool.query(
      `SELECT id::text, payload FROM ${SCHEMA}.outbox WHERE event_type = 'inventory.low_stock' AND aggregate_id = $1 ORDER BY created_at`,
      [p],
    );
    expect(rows).toHaveLength(2);
    expect(rows[1].id).toBe(again.lowStock[0]!.eventId);
    expect(rows[1].payload).toEqual({
      serviceName: 'inventory',
      data: { productId: p, branchId: BRANCH, quantityAvailable: 3, reorderLevel: 3 },
      metadata: { tenantId: actor.tenantId, branchId: BRANCH, userId: actor.userId, correlationId: 'test' },
    });
  });

  it('writes a register line with the running balance for every movement of a controlled product', async () => {
    const p = await product('CTRL-1', { controlled: true });
    await receive(p, 'C1', '2026-09-30', 4);
    await receive(p, 'C2', '2027-09-30', 10);
    await allocate(p, 6); // spans C1 (4) and C2 (2)
    await Promise.all([allocate(p, 1), allocate(p, 2), receive(p, 'C3', '2028-01-31', 5)]);
    const { rows } = await db.pool.query(
      `SELECT r.quantity, r.balance_after, m.quantity AS movement_quantity
       FROM ${SCHEMA}.controlled_register r JOIN ${SCHEMA}.stock_movements m ON m.id = r.movement_id
       WHERE r.product_id = $1 ORDER BY r.occurred_at, r.id`,
      [p],
    );
    expect(rows).toHaveLength(7);
    for (const r of rows) expect(r.quantity).toBe(r.movement_quantity);
    // The lines must chain in some serial order: each starts at the balance the previous one left,
    // from 0 to the ledger's total. Concurrent changes computed without the lock would break it.
    const chain = (current: number, left: typeof rows): boolean =>
      left.length === 0
        ? current === total
        : left.some((r, i) => r.balance_after - r.quantity === current && chain(r.balance_after, left.filter((_, j) => j !== i)));
    const total = await onHand(p);
    expect(total).toBe(4 + 10 - 6 - 1 - 2 + 5);
    expect(chain(0, rows)).toBe(true);
  });
});
