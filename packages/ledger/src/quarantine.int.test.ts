// Quarantine of returned stock against a real tenant schema: returned units wait in their lot's
// quarantine batch, are never allocated, are released into the lot or written off, each change a
// ledger movement (on hand = sum of movements), with register lines for a controlled product.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { ledgerBreaks } from '@umi/testkit/ledger';
import { applyMigrations, createAppPool, inTransaction, TenantClients, type TenantDb } from '@umi/db';
import { quarantineStock, releaseQuarantine, writeOffQuarantine } from './quarantine';
import { allocateStock, receiveStock, type StockActor } from './stock';

const SCHEMA = 'tenant_quarantine_test';
const TODAY = '2026-06-01';
const BRANCH = randomUUID();

describe('quarantine of returned stock', () => {
  let db: TestDatabase;
  let pool: Pool;
  let clients: TenantClients;
  let client: TenantDb;
  const actor: StockActor = { tenantId: randomUUID(), userId: randomUUID(), correlationId: 'test', service: 'pos' };

  async function product(sku: string, controlled = false): Promise<string> {
    const { rows } = await db.pool.query(`INSERT INTO ${SCHEMA}.products (sku, name, controlled_substance, requires_prescription) VALUES ($1, $1, $2, $2) RETURNING id`, [sku, controlled]);
    return rows[0].id as string;
  }

  const receive = (productId: string, batchNumber: string, expiryDate: string, quantity: number) =>
    client.transaction((tx) =>
      receiveStock(tx, actor, {
        branchId: BRANCH,
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

  const allocate = (productId: string, quantity: number) =>
    client.transaction((tx) =>
      allocateStock(tx, actor, { branchId: BRANCH, today: TODAY, type: 'SALE', lines: [{ productId, quantity }], reference: 'S-1', referenceId: null }),
    );

  const quarantine = (batchId: string, quantity: number) =>
    client.transaction((tx) => quarantineStock(tx, actor, { branchId: BRANCH, today: TODAY, type: 'REFUND', moves: [{ batchId, quantity, reference: 'S-1' }] }));

  async function batch(id: string): Promise<{ status: string; on_hand: number; batch_number: string; quarantine_of: string | null }> {
    const { rows } = await db.pool.query(
      `SELECT status, quantity_on_hand AS on_hand, batch_number, quarantine_of::text FROM ${SCHEMA}.inventory_batches WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const owner = await db.pool.connect();
    try {
      await inTransaction(owner, () => applyMigrations(owner, 'tenant', SCHEMA, TEST_APP_ROLE));
    } finally {
      owner.release();
    }
    pool = createAppPool(db.url, 8, TEST_APP_ROLE);
    clients = new TenantClients(pool, 2);
    client = clients.db(SCHEMA);
  });

  afterAll(async () => {
    await clients.close();
    await pool.end();
    await db.drop();
  });

  afterEach(async () => {
    expect(await ledgerBreaks(db.pool, SCHEMA)).toEqual([]);
  });

  it('holds returned units in the lot\'s quarantine batch, never allocated, then releases or writes them off', async () => {
    const p = await product('Q-1');
    const lot = (await receive(p, 'LOT-1', '2027-01-31', 5)).batchId;
    await allocate(p, 5);
    const holding = (await quarantine(lot, 3)).get(lot)!;
    expect(await batch(holding)).toEqual({ status: 'QUARANTINE', on_hand: 3, batch_number: 'LOT-1', quarantine_of: lot });
    // A second return of the lot joins the same quarantine batch.
    expect((await quarantine(lot, 1)).get(lot)).toBe(holding);
    await expect(allocate(p, 1)).rejects.toMatchObject({ extensions: { code: 'CONFLICT', reason: 'INSUFFICIENT_STOCK', available: 0 } });
    // A new receipt of the lot number goes to the lot, not to its quarantine batch.
    expect((await receive(p, 'LOT-1', '2027-01-31', 2)).batchId).toBe(lot);

    const decide = { branchId: BRANCH, today: TODAY, batchId: holding, reason: 'sealed' };
    const released = await client.transaction((tx) => releaseQuarantine(tx, actor, { ...decide, quantity: 3 }));
    expect(released.lotBatchId).toBe(lot);
    expect(released.movements.map((m) => [m.batchId, m.type, m.quantity])).toEqual([
      [holding, 'QUARANTINE_RELEASE', -3],
      [lot, 'QUARANTINE_RELEASE', 3],
    ]);
    expect((await allocate(p, 5)).movements.map((m) => m.batchId)).toEqual([lot]);
    await expect(client.transaction((tx) => writeOffQuarantine(tx, actor, { ...decide, quantity: 2 }))).rejects.toMatchObject({
      extensions: { code: 'CONFLICT', reason: 'QUARANTINE_EXCEEDED' },
    });
    await client.transaction((tx) => writeOffQuarantine(tx, actor, { ...decide, quantity: 1 }));
    expect(await batch(holding)).toMatchObject({ status: 'QUARANTINE', on_hand: 0 });
    await expect(client.transaction((tx) => releaseQuarantine(tx, actor, { ...decide, batchId: lot, quantity: 1 }))).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('never releases units of an expired lot, and writes register lines for a controlled product', async () => {
    const p = await product('Q-CTRL', true);
    const lot = (await receive(p, 'C-1', '2026-07-01', 4)).batchId;
    await allocate(p, 2);
    const holding = (await quarantine(lot, 2)).get(lot)!;
    const later = { branchId: BRANCH, today: '2026-07-01', batchId: holding, reason: 'sealed' };
    await expect(client.transaction((tx) => releaseQuarantine(tx, actor, { ...later, quantity: 1 }))).rejects.toMatchObject({
      extensions: { code: 'CONFLICT', reason: 'BATCH_EXPIRED' },
    });
    await client.transaction((tx) => releaseQuarantine(tx, actor, { ...later, today: TODAY, quantity: 1 }));
    // Destroying controlled stock needs a second person as witness, as any other write-off of it.
    await expect(client.transaction((tx) => writeOffQuarantine(tx, actor, { ...later, quantity: 1 }))).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', reason: 'WITNESS_REQUIRED' },
    });
    await client.transaction((tx) => writeOffQuarantine(tx, actor, { ...later, quantity: 1, witnessId: randomUUID() }));
    const { rows } = await db.pool.query(
      `SELECT r.quantity, r.balance_after, m.type FROM ${SCHEMA}.controlled_register r JOIN ${SCHEMA}.stock_movements m ON m.id = r.movement_id
       WHERE r.product_id = $1 ORDER BY r.occurred_at, r.balance_after`,
      [p],
    );
    // The balance counts every unit in the pharmacy's custody, quarantined or not (a release's two
    // lines share a time: out of quarantine first).
    expect(rows.map((r) => [r.type, r.quantity, r.balance_after])).toEqual([
      ['GRN', 4, 4],
      ['SALE', -2, 2],
      ['REFUND', 2, 4],
      ['QUARANTINE_RELEASE', -1, 3],
      ['QUARANTINE_RELEASE', 1, 4],
      ['QUARANTINE_WRITE_OFF', -1, 3],
    ]);
  });
});
