// The controlled-substance register against a real tenant schema: who answers for each line (the
// verifying pharmacist when a cashier sells against a prescription), a receipt's supplier and
// delivery reference, witnesses for write-offs, lines numbered in the order their balances chain
// even under concurrency, and retention: nothing deletes a line younger than the tenant's period.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { applyMigrations, createAppPool, inTransaction, sql, tables, TenantClients, type TenantDb } from '@umi/db';
import { allocateStock, moveBatches, receiveStock, type StockActor } from './stock';

const SCHEMA = 'tenant_register_test';
const TODAY = '2026-06-01';
const BRANCH = randomUUID();

describe('controlled register', () => {
  let db: TestDatabase;
  let pool: Pool;
  let clients: TenantClients;
  let client: TenantDb;
  const tenantId = randomUUID();
  const cashier: StockActor = { tenantId, userId: randomUUID(), isPharmacist: false, correlationId: 'test', service: 'pos' };
  const pharmacist: StockActor = { tenantId, userId: randomUUID(), isPharmacist: true, correlationId: 'test', service: 'pharmacy' };
  const manager: StockActor = { tenantId, userId: randomUUID(), correlationId: 'test', service: 'inventory' };
  const verifier = randomUUID();
  const witness = randomUUID();

  async function product(sku: string, controlled = true): Promise<string> {
    const { rows } = await db.pool.query(`INSERT INTO ${SCHEMA}.products (sku, name, controlled_substance, requires_prescription) VALUES ($1, $1, $2, $2) RETURNING id`, [
      sku,
      controlled,
    ]);
    return rows[0].id as string;
  }

  const receive = (actor: StockActor, productId: string, batchNumber: string, quantity: number, extra: { supplierId?: string; deliveryReference?: string } = {}) =>
    client.transaction((tx) =>
      receiveStock(tx, actor, {
        branchId: BRANCH,
        productId,
        batchNumber,
        expiryDate: '2027-12-31',
        quantity,
        costPrice: '1.00',
        sellingPrice: '2.50',
        today: TODAY,
        type: 'GRN',
        reference: 'GRN-TEST',
        referenceId: null,
        ...extra,
      }),
    );

  const sell = (actor: StockActor, productId: string, quantity: number, prescriptionId: string | null = null) =>
    client.transaction((tx) =>
      allocateStock(tx, actor, { branchId: BRANCH, today: TODAY, type: 'SALE', lines: [{ productId, quantity }], reference: 'S-1', referenceId: null, prescriptionId }),
    );

  const adjust = (actor: StockActor, batchId: string, delta: number, witnessId: string | null, type: 'ADJUSTMENT' | 'EXPIRY_WRITE_OFF' = 'ADJUSTMENT') =>
    client.transaction((tx) => moveBatches(tx, actor, { branchId: BRANCH, today: TODAY, moves: [{ batchId, delta, type, reason: 'damaged' }], witnessId }));

  async function lines(productId: string) {
    const { rows } = await db.pool.query(
      `SELECT quantity, balance_after, pharmacist_id::text, witness_id::text, supplier_id::text, delivery_reference, prescription_id::text
       FROM ${SCHEMA}.controlled_register WHERE product_id = $1 ORDER BY occurred_at, line_no`,
      [productId],
    );
    return rows as { quantity: number; balance_after: number; pharmacist_id: string | null; witness_id: string | null; supplier_id: string | null; delivery_reference: string | null; prescription_id: string | null }[];
  }

  /** Ages a line as if written `years` ago; the owner bypasses the append-only trigger for this transaction only. */
  async function age(productId: string, years: number, quantity: number): Promise<void> {
    const c = await db.pool.connect();
    try {
      await inTransaction(c, async () => {
        await c.query(`SET LOCAL session_replication_role = replica`);
        await c.query(`UPDATE ${SCHEMA}.controlled_register SET occurred_at = now() - make_interval(years => $3) - interval '1 day' WHERE product_id = $1 AND quantity = $2`, [
          productId,
          quantity,
          years,
        ]);
      });
    } finally {
      c.release();
    }
  }

  /** Deletes lines of `productId` inside a retention purge, as the application role: the trigger decides. */
  const purge = (productId: string, quantity: number | null = null) =>
    client.transaction(async (tx) => {
      await tx.sql.query(sql`SELECT set_config('umi.register_purge', 'on', true)`);
      const only = quantity === null ? sql`` : sql`AND quantity = ${quantity}`;
      return tx.sql.query(sql`DELETE FROM ${tables.controlled_register} WHERE product_id = ${productId}::uuid ${only} RETURNING quantity`);
    });

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

  it('names the pharmacist who verified the prescription when a cashier sells against it, and the supplying pharmacist otherwise', async () => {
    const p = await product('MOR-RX');
    await receive(manager, p, 'M1', 20);
    const { rows: patient } = await db.pool.query(`INSERT INTO ${SCHEMA}.patients (patient_number, branch_id, first_name, last_name) VALUES ('P-1', $1, 'A', 'B') RETURNING id`, [BRANCH]);
    const { rows: rx } = await db.pool.query(
      `INSERT INTO ${SCHEMA}.prescriptions (prescription_number, branch_id, patient_id, prescriber_name, date_prescribed, valid_until, status, verified_by, verified_at, created_by)
       VALUES ('RX-1', $1, $2, 'Dr Banda', $3, $3::date + 30, 'VERIFIED', $4, now(), $4) RETURNING id`,
      [BRANCH, patient[0].id, TODAY, verifier],
    );
    await sell(cashier, p, 2, rx[0].id);
    await sell(pharmacist, p, 3, rx[0].id);
    await sell(cashier, p, 1);
    expect((await lines(p)).map((l) => [l.quantity, l.pharmacist_id, l.prescription_id])).toEqual([
      [20, manager.userId, null],
      [-2, verifier, rx[0].id],
      [-3, pharmacist.userId, rx[0].id],
      [-1, cashier.userId, null],
    ]);
  });

  it("records a receipt's supplier and delivery reference on its line", async () => {
    const p = await product('MOR-GRN');
    const { rows } = await db.pool.query(`INSERT INTO ${SCHEMA}.suppliers (name) VALUES ('Medico Ltd') RETURNING id::text`);
    await receive(manager, p, 'G1', 5, { supplierId: rows[0].id, deliveryReference: 'DN-4471' });
    expect(await lines(p)).toEqual([expect.objectContaining({ quantity: 5, supplier_id: rows[0].id, delivery_reference: 'DN-4471' })]);
  });

  it('refuses a write-off of controlled stock without a second person as witness, and records the witness', async () => {
    const p = await product('MOR-WO');
    const r = await receive(manager, p, 'W1', 10);
    await expect(adjust(manager, r.batchId, -2, null)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'WITNESS_REQUIRED' } });
    await expect(adjust(manager, r.batchId, -2, null, 'EXPIRY_WRITE_OFF')).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'WITNESS_REQUIRED' } });
    await expect(adjust(manager, r.batchId, -2, manager.userId)).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'WITNESS_INVALID' } });
    await adjust(manager, r.batchId, 3, null); // found stock needs no witness
    await adjust(manager, r.batchId, -4, witness);
    expect((await lines(p)).map((l) => [l.quantity, l.balance_after, l.witness_id])).toEqual([
      [10, 10, null],
      [3, 13, null],
      [-4, 9, witness],
    ]);
    const plain = await product('PCM-WO', false);
    const b = await receive(manager, plain, 'P1', 10);
    await adjust(manager, b.batchId, -2, null);
  });

  it('numbers lines so that, in time and line order, concurrent changes chain from one balance to the next', async () => {
    const p = await product('MOR-RACE');
    await receive(manager, p, 'R1', 40);
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => sell(cashier, p, i + 1)),
      receive(manager, p, 'R2', 7),
      receive(manager, p, 'R1', 4),
    ]);
    const ordered = await lines(p);
    // A sale may span two batches (two lines), depending on which receipt landed first.
    expect(ordered.length).toBeGreaterThanOrEqual(11);
    let balance = 0;
    for (const l of ordered) {
      expect(l.balance_after - l.quantity).toBe(balance);
      balance = l.balance_after;
    }
    const { rows } = await db.pool.query(`SELECT sum(quantity_on_hand)::int AS n FROM ${SCHEMA}.inventory_batches WHERE product_id = $1`, [p]);
    expect(balance).toBe(rows[0].n);
  });

  it('keeps every line younger than the retention period: updates and plain deletes are refused, a purge takes only old lines', async () => {
    const p = await product('MOR-KEEP');
    await receive(manager, p, 'K1', 6);
    await receive(manager, p, 'K1', 4);
    await receive(manager, p, 'K1', 1);
    await age(p, 6, 6);
    await age(p, 4, 4);
    expect(await lines(p)).toHaveLength(3);

    await expect(db.pool.query(`UPDATE ${SCHEMA}.controlled_register SET quantity = 7 WHERE product_id = $1`, [p])).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`DELETE FROM ${SCHEMA}.controlled_register WHERE product_id = $1 AND quantity = 6`, [p])).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`TRUNCATE ${SCHEMA}.controlled_register`)).rejects.toThrow(/append-only/);

    // Ten years' retention keeps the six-year-old line; the purge stops at the first young line.
    await db.pool.query(`UPDATE ${SCHEMA}.tenant_settings SET value = '10' WHERE key = 'controlled_register_retention_years'`);
    await expect(purge(p)).rejects.toThrow(/within the 10 years/);
    // A setting below the legal floor is read as five years: the four-year-old line stays.
    await db.pool.query(`UPDATE ${SCHEMA}.tenant_settings SET value = '2' WHERE key = 'controlled_register_retention_years'`);
    await expect(purge(p)).rejects.toThrow(/within the 5 years/);
    expect((await lines(p)).map((l) => l.quantity)).toEqual([6, 4, 1]);
    await db.pool.query(`UPDATE ${SCHEMA}.tenant_settings SET value = '5' WHERE key = 'controlled_register_retention_years'`);
    expect(await purge(p, 6)).toEqual([{ quantity: 6 }]);
    expect((await lines(p)).map((l) => l.quantity)).toEqual([4, 1]);
  });
});
