import { BadUserInputError, ConflictError, NotFoundError } from '@umi/kit';
import { sql, tables, type SqlRunner } from '@umi/db';
import { outboxPayload, recordEvents, type NewEvent } from '@umi/events';
import { assertWitnessed, writeRegister, type RegisterActor, type RegisterDetail } from './register';

/**
 * The stock ledger: the only code that changes quantities. Every function here runs inside the
 * caller's transaction (a sale, a dispense, a receipt), so the stock change, its ledger rows, the
 * controlled-substance register lines and the low-stock event commit or vanish with the business
 * change.
 *
 * Locking: a stock change first locks the `product_branch_settings` row of every (branch, product)
 * it touches, in (product, branch) order, then the batches. One lock per (branch, product) makes
 * the running balances of the register and the low-stock state exact, and the fixed order means
 * two transactions over the same products queue instead of deadlocking.
 */

export const MOVEMENT_TYPES = [
  'GRN',
  'SALE',
  'DISPENSE',
  'TRANSFER_OUT',
  'TRANSFER_IN',
  'ADJUSTMENT',
  'STOCKTAKE',
  'SUPPLIER_RETURN',
  'CUSTOMER_RETURN',
  'EXPIRY_WRITE_OFF',
  'REFUND',
  'QUARANTINE_RELEASE',
  'QUARANTINE_WRITE_OFF',
] as const;
export type MovementType = (typeof MOVEMENT_TYPES)[number];

/** The caller's transaction, bound to the tenant whose stock changes. */
export interface LedgerTx {
  readonly sql: SqlRunner;
}

/** Who changes stock, for the ledger, the register and the event envelope. */
export interface StockActor extends RegisterActor {
  tenantId: string;
  userId: string | null;
  correlationId: string | null;
  /** The subgraph making the change (the envelope's serviceName). */
  service: string;
}

/** Optional links written on register lines of controlled products. */
export interface ClinicalLink {
  patientId?: string | null;
  prescriptionId?: string | null;
}

export interface MovementRecord {
  movementId: string;
  batchId: string;
  branchId: string;
  productId: string;
  type: MovementType;
  /** Signed: negative leaves the batch. */
  quantity: number;
  balanceAfter: number;
  createdAt: Date;
}

export interface Allocation extends MovementRecord {
  batchNumber: string;
  expiryDate: string;
  /** Units taken from this batch (positive). */
  taken: number;
  costPrice: string;
  sellingPrice: string;
}

/** A (branch, product) whose available stock crossed to or below its reorder level here. */
export interface LowStockCrossing {
  branchId: string;
  productId: string;
  quantityAvailable: number;
  reorderLevel: number;
  eventId: string;
}

export interface StockChange<T> {
  movements: T[];
  lowStock: LowStockCrossing[];
}

interface Move extends ClinicalLink, RegisterDetail {
  batchId: string;
  branchId: string;
  productId: string;
  delta: number;
  type: MovementType;
  reason: string | null;
  reference: string | null;
  referenceId: string | null;
}

interface LockedKey {
  product_id: string;
  branch_id: string;
  controlled: boolean;
}

function assertQuantity(q: number, field: string): void {
  if (!Number.isSafeInteger(q) || q <= 0) throw new BadUserInputError(`${field}: must be a whole number above zero`, { field });
}

/**
 * Locks the (branch, product) rows, creating them on first use; returns which products are
 * controlled. Exported for operations that touch several branches (transfers): they lock every key
 * up front, in order, before the first stock change.
 */
export async function lockStockKeys(tx: LedgerTx, keys: { branchId: string; productId: string }[]): Promise<Map<string, boolean>> {
  const uniq = [...new Map(keys.map((k) => [`${k.productId}|${k.branchId}`, k])).values()].sort((a, b) =>
    a.productId === b.productId ? a.branchId.localeCompare(b.branchId) : a.productId.localeCompare(b.productId),
  );
  // DO UPDATE (to the same value) rather than DO NOTHING: it row-locks an existing row too.
  const rows = await tx.sql.query<LockedKey>(
    sql`WITH locked AS (
          INSERT INTO ${tables.product_branch_settings} (product_id, branch_id)
          SELECT product_id, branch_id FROM unnest(${uniq.map((k) => k.productId)}::uuid[], ${uniq.map((k) => k.branchId)}::uuid[]) AS k(product_id, branch_id)
          ORDER BY product_id, branch_id
          ON CONFLICT (product_id, branch_id) DO UPDATE SET product_id = EXCLUDED.product_id
          RETURNING product_id, branch_id
        )
        SELECT l.product_id::text, l.branch_id::text, p.controlled_substance AS controlled
        FROM locked l JOIN ${tables.products} p ON p.id = l.product_id`,
  );
  return new Map(rows.map((r) => [r.product_id, r.controlled]));
}

/**
 * Applies signed moves to batches with one conditional UPDATE (never below the reserved quantity,
 * so never below zero) and appends their ledger rows in the same statement.
 */
async function writeMoves(tx: LedgerTx, actor: StockActor, moves: Move[]): Promise<MovementRecord[]> {
  if (new Set(moves.map((m) => m.batchId)).size !== moves.length) throw new Error('writeMoves: one move per batch');
  const rows = await tx.sql.query<{
    movement_id: string;
    batch_id: string;
    branch_id: string;
    product_id: string;
    type: MovementType;
    quantity: number;
    balance_after: number;
    created_at: Date;
  }>(
    sql`WITH m AS (
          SELECT * FROM unnest(${moves.map((m) => m.batchId)}::uuid[], ${moves.map((m) => m.branchId)}::uuid[], ${moves.map((m) => m.productId)}::uuid[],
                               ${moves.map((m) => m.delta)}::int[], ${moves.map((m) => m.type)}::text[], ${moves.map((m) => m.reason)}::text[],
                               ${moves.map((m) => m.reference)}::text[], ${moves.map((m) => m.referenceId)}::uuid[], ${moves.map((_, i) => i)}::int[])
            AS m(batch_id, branch_id, product_id, delta, type, reason, reference, reference_id, ord)
        ), upd AS (
          UPDATE ${tables.inventory_batches} b
          SET quantity_on_hand = b.quantity_on_hand + m.delta, updated_at = now()
          FROM m
          WHERE b.id = m.batch_id AND b.branch_id = m.branch_id AND b.product_id = m.product_id
            AND b.quantity_on_hand + m.delta >= b.quantity_reserved
          RETURNING b.id, b.quantity_on_hand
        )
        INSERT INTO ${tables.stock_movements}
          (branch_id, product_id, batch_id, type, quantity, balance_after, reason, reference, reference_id, user_id)
        SELECT m.branch_id, m.product_id, m.batch_id, m.type, m.delta, upd.quantity_on_hand, m.reason, m.reference, m.reference_id, ${actor.userId}::uuid
        FROM upd JOIN m ON m.batch_id = upd.id ORDER BY m.ord
        RETURNING id::text AS movement_id, batch_id::text, branch_id::text, product_id::text, type, quantity, balance_after, created_at`,
  );
  if (rows.length !== moves.length) {
    const done = new Set(rows.map((r) => r.batch_id));
    const failed = moves.find((m) => !done.has(m.batchId))!;
    throw new ConflictError('Not enough stock in the batch for this change', { reason: 'INSUFFICIENT_STOCK', batchId: failed.batchId });
  }
  const byBatch = new Map(rows.map((r) => [r.batch_id, r]));
  return moves.map((m) => {
    const r = byBatch.get(m.batchId)!;
    return {
      movementId: r.movement_id,
      batchId: r.batch_id,
      branchId: r.branch_id,
      productId: r.product_id,
      type: r.type,
      quantity: r.quantity,
      balanceAfter: r.balance_after,
      createdAt: r.created_at,
    };
  });
}

/**
 * Recomputes the low/not-low state of each product at the branch and writes an
 * `inventory.low_stock` event to the outbox for each one that has just crossed to low: once per
 * crossing, because the state only flips when it differs. Available stock counts AVAILABLE batches
 * that have not expired by `today`. `updated` (the change's `inventory.updated` event) is written
 * by the same statement: one round trip fewer while the stock locks are held.
 */
async function refreshLowStock(
  tx: LedgerTx,
  actor: StockActor,
  branchId: string,
  productIds: string[],
  today: string,
  updated: NewEvent,
): Promise<LowStockCrossing[]> {
  const crossed = await tx.sql.query<{ product_id: string; available: number; reorder_level: number }>(
    sql`WITH levels AS (
          SELECT s.product_id, s.branch_id, s.reorder_level,
            coalesce((SELECT sum(b.quantity_on_hand - b.quantity_reserved) FROM ${tables.inventory_batches} b
                      WHERE b.branch_id = s.branch_id AND b.product_id = s.product_id
                        AND b.status = 'AVAILABLE' AND b.expiry_date > ${today}::date), 0)::int AS available
          FROM ${tables.product_branch_settings} s
          WHERE s.branch_id = ${branchId}::uuid AND s.product_id = ANY(${productIds}::uuid[])
        ), flipped AS (
          INSERT INTO ${tables.low_stock_state} AS st (branch_id, product_id, is_low)
          SELECT branch_id, product_id, available <= reorder_level FROM levels ORDER BY product_id
          ON CONFLICT (branch_id, product_id) DO UPDATE SET is_low = EXCLUDED.is_low, changed_at = now()
            WHERE st.is_low IS DISTINCT FROM EXCLUDED.is_low
          RETURNING product_id, is_low
        ), inventory_updated AS (
          INSERT INTO ${tables.outbox} (event_type, aggregate_id, branch_id, payload)
          VALUES (${updated.eventType}, ${updated.aggregateId}::uuid, ${updated.metadata.branchId}::uuid, ${outboxPayload(updated)}::jsonb)
        )
        -- (A data-modifying CTE runs whether or not the query reads it: the event is always written.)
        SELECT l.product_id::text, l.available, l.reorder_level
        FROM flipped f JOIN levels l ON l.product_id = f.product_id
        WHERE f.is_low ORDER BY l.product_id`,
  );
  if (crossed.length === 0) return [];
  const events: NewEvent[] = crossed.map((r) => ({
    eventType: 'inventory.low_stock',
    serviceName: actor.service,
    aggregateId: r.product_id,
    data: { productId: r.product_id, branchId, quantityAvailable: r.available, reorderLevel: r.reorder_level },
    metadata: { tenantId: actor.tenantId, branchId, userId: actor.userId, correlationId: actor.correlationId },
  }));
  const ids = await recordEvents(tx, events);
  return crossed.map((r, i) => ({ branchId, productId: r.product_id, quantityAvailable: r.available, reorderLevel: r.reorder_level, eventId: ids[i]! }));
}

/** Writes the moves (one branch) with everything that follows a stock change; locks must be held. */
async function commitMoves(
  tx: LedgerTx,
  actor: StockActor,
  branchId: string,
  today: string,
  moves: Move[],
  controlled: Map<string, boolean>,
): Promise<StockChange<MovementRecord>> {
  assertWitnessed(actor, moves.filter((m) => controlled.get(m.productId) === true));
  const records = await writeMoves(tx, actor, moves);
  await writeRegister(
    tx,
    actor,
    branchId,
    moves.flatMap((m, i) => (controlled.get(m.productId) === true ? [{ ...m, movementId: records[i]!.movementId }] : [])),
  );
  const change = new Map<string, number>();
  for (const m of moves) change.set(m.productId, (change.get(m.productId) ?? 0) + m.delta);
  const updated: NewEvent = {
    eventType: 'inventory.updated',
    serviceName: actor.service,
    aggregateId: branchId,
    data: {
      branchId,
      types: [...new Set(moves.map((m) => m.type))],
      reference: moves[0]?.reference ?? null,
      // A till sale's movements are written before it has a number: they name it by id only.
      referenceId: moves[0]?.referenceId ?? null,
      products: [...change].map(([productId, quantity]) => ({ productId, quantity })),
    },
    metadata: { tenantId: actor.tenantId, branchId, userId: actor.userId, correlationId: actor.correlationId },
  };
  const lowStock = await refreshLowStock(tx, actor, branchId, [...new Set(moves.map((m) => m.productId))], today, updated);
  return { movements: records, lowStock };
}

export interface AllocationLine {
  productId: string;
  quantity: number;
  /** Batches expiring before this date (YYYY-MM-DD) are skipped, e.g. the end of a course. */
  notExpiringBefore?: string | null;
}

export interface AllocationRequest extends ClinicalLink {
  branchId: string;
  /** The branch's local date: batches expiring on or before it are expired and never allocated. */
  today: string;
  type: 'SALE' | 'DISPENSE' | 'TRANSFER_OUT' | 'SUPPLIER_RETURN';
  lines: AllocationLine[];
  reference: string | null;
  referenceId: string | null;
  reason?: string | null;
  /**
   * What `lockStockKeys` answered to a caller that already locked these keys at this branch (a
   * checkout locks its whole cart before allocating it in groups): used instead of locking again,
   * which would cost a round trip under the locks. Ignored unless it covers every line.
   */
  locked?: ReadonlyMap<string, boolean>;
}

/**
 * Takes stock out of a branch first-expiry-first-out: for each product, the AVAILABLE batches that
 * have not expired, soonest expiry first. All or nothing: when any line cannot be filled it throws
 * CONFLICT (reason INSUFFICIENT_STOCK, with the quantity available) and the caller's transaction
 * rolls back. Concurrent allocations of the same product queue on the row locks, so they can never
 * take the same units twice.
 */
export async function allocateStock(tx: LedgerTx, actor: StockActor, req: AllocationRequest): Promise<StockChange<Allocation>> {
  if (req.lines.length === 0) throw new BadUserInputError('Nothing to allocate');
  const merged = new Map<string, AllocationLine>();
  req.lines.forEach((l, i) => {
    assertQuantity(l.quantity, `lines[${i}].quantity`);
    const prev = merged.get(l.productId);
    merged.set(l.productId, prev ? { ...prev, quantity: prev.quantity + l.quantity } : { ...l });
  });
  const lines = [...merged.values()].sort((a, b) => a.productId.localeCompare(b.productId));
  const controlled =
    req.locked && lines.every((l) => req.locked!.has(l.productId))
      ? new Map(req.locked)
      : await lockStockKeys(
          tx,
          lines.map((l) => ({ branchId: req.branchId, productId: l.productId })),
        );
  const batches = await tx.sql.query<{
    id: string;
    product_id: string;
    batch_number: string;
    expiry_date: string;
    available: number;
    cost_price: string;
    selling_price: string;
  }>(
    sql`SELECT id::text, product_id::text, batch_number, expiry_date::text, quantity_on_hand - quantity_reserved AS available,
               cost_price::text, selling_price::text
        FROM ${tables.inventory_batches}
        WHERE branch_id = ${req.branchId}::uuid AND product_id = ANY(${lines.map((l) => l.productId)}::uuid[]) AND status = 'AVAILABLE'
          AND expiry_date > ${req.today}::date AND quantity_on_hand > quantity_reserved
        ORDER BY product_id, expiry_date, id
        FOR UPDATE`,
  );

  const plan: { line: AllocationLine; batch: (typeof batches)[number]; take: number }[] = [];
  for (const line of lines) {
    let remaining = line.quantity;
    const usable = batches.filter(
      (b) => b.product_id === line.productId && (!line.notExpiringBefore || b.expiry_date >= line.notExpiringBefore),
    );
    for (const batch of usable) {
      if (remaining === 0) break;
      const take = Math.min(batch.available, remaining);
      plan.push({ line, batch, take });
      remaining -= take;
    }
    if (remaining > 0) {
      const available = line.quantity - remaining;
      throw new ConflictError(`Insufficient stock: ${line.quantity} requested, ${available} available`, {
        reason: 'INSUFFICIENT_STOCK',
        productId: line.productId,
        requested: line.quantity,
        available,
      });
    }
  }

  const moves: Move[] = plan.map((p) => ({
    batchId: p.batch.id,
    branchId: req.branchId,
    productId: p.line.productId,
    delta: -p.take,
    type: req.type,
    reason: req.reason ?? null,
    reference: req.reference,
    referenceId: req.referenceId,
    patientId: req.patientId ?? null,
    prescriptionId: req.prescriptionId ?? null,
  }));
  const change = await commitMoves(tx, actor, req.branchId, req.today, moves, controlled);
  return {
    lowStock: change.lowStock,
    movements: change.movements.map((m, i) => {
      const p = plan[i]!;
      return {
        ...m,
        batchNumber: p.batch.batch_number,
        expiryDate: p.batch.expiry_date,
        taken: p.take,
        costPrice: p.batch.cost_price,
        sellingPrice: p.batch.selling_price,
      };
    }),
  };
}

export interface ReceiptRequest {
  branchId: string;
  productId: string;
  batchNumber: string;
  expiryDate: string;
  quantity: number;
  costPrice: string;
  sellingPrice: string;
  supplierId?: string | null;
  /** The supplier's delivery note or invoice number, recorded on the register line of a controlled product. */
  deliveryReference?: string | null;
  location?: string | null;
  /** The branch's local date: an expired batch is refused. */
  today: string;
  type: 'GRN' | 'TRANSFER_IN' | 'CUSTOMER_RETURN';
  reference: string | null;
  referenceId: string | null;
  reason?: string | null;
}

/**
 * Puts stock into a batch (branch, product, batch number), creating the batch on first receipt. A
 * batch number already held with another expiry date is a CONFLICT: a lot has one expiry.
 */
export async function receiveStock(tx: LedgerTx, actor: StockActor, req: ReceiptRequest): Promise<StockChange<MovementRecord> & { batchId: string }> {
  assertQuantity(req.quantity, 'quantity');
  if (req.expiryDate <= req.today) throw new BadUserInputError('expiryDate: the batch has expired; expired stock cannot be received', { field: 'expiryDate' });
  const controlled = await lockStockKeys(tx, [{ branchId: req.branchId, productId: req.productId }]);
  const row = await tx.sql.maybeOne<{ id: string }>(
    sql`INSERT INTO ${tables.inventory_batches} AS b
          (branch_id, product_id, supplier_id, batch_number, expiry_date, cost_price, selling_price, location)
        VALUES (${req.branchId}::uuid, ${req.productId}::uuid, ${req.supplierId ?? null}::uuid, ${req.batchNumber}, ${req.expiryDate}::date,
                ${req.costPrice}::numeric, ${req.sellingPrice}::numeric, ${req.location ?? null})
        ON CONFLICT (branch_id, product_id, batch_number) WHERE quarantine_of IS NULL DO UPDATE
          SET cost_price = EXCLUDED.cost_price, selling_price = EXCLUDED.selling_price,
              supplier_id = coalesce(EXCLUDED.supplier_id, b.supplier_id), location = coalesce(EXCLUDED.location, b.location),
              updated_at = now()
          WHERE b.expiry_date = EXCLUDED.expiry_date
        RETURNING id::text`,
  );
  const batchId = row?.id;
  if (!batchId) {
    throw new ConflictError(`Batch ${req.batchNumber} is already held here with a different expiry date`, { reason: 'BATCH_EXPIRY_MISMATCH' });
  }
  const change = await commitMoves(
    tx,
    actor,
    req.branchId,
    req.today,
    [
      {
        batchId,
        branchId: req.branchId,
        productId: req.productId,
        delta: req.quantity,
        type: req.type,
        reason: req.reason ?? null,
        reference: req.reference,
        referenceId: req.referenceId,
        supplierId: req.supplierId ?? null,
        deliveryReference: req.deliveryReference ?? null,
      },
    ],
    controlled,
  );
  return { ...change, batchId };
}

export interface BatchMove extends ClinicalLink {
  batchId: string;
  /** Signed change of the batch's quantity on hand. */
  delta: number;
  type: MovementType;
  reason?: string | null;
  reference?: string | null;
  referenceId?: string | null;
}

/**
 * Applies signed changes to known batches of one branch: adjustments, counts, write-offs, and
 * refunds that return stock to the batches it came from. A change that would take a batch below
 * zero (or below its reserved quantity) is a CONFLICT and nothing is written.
 */
export async function moveBatches(
  tx: LedgerTx,
  actor: StockActor,
  req: {
    branchId: string;
    today: string;
    moves: BatchMove[];
    /** The second person witnessing a write-off of controlled stock (recorded on its register lines). */
    witnessId?: string | null;
  },
): Promise<StockChange<MovementRecord>> {
  if (req.moves.length === 0) throw new BadUserInputError('Nothing to change');
  for (const m of req.moves) {
    if (!Number.isSafeInteger(m.delta) || m.delta === 0) throw new BadUserInputError('delta: must be a non-zero whole number', { field: 'delta' });
  }
  const found = await tx.sql.query<{ id: string; product_id: string }>(
    sql`SELECT id::text, product_id::text FROM ${tables.inventory_batches}
        WHERE id = ANY(${req.moves.map((m) => m.batchId)}::uuid[]) AND branch_id = ${req.branchId}::uuid`,
  );
  const productOf = new Map(found.map((r) => [r.id, r.product_id]));
  const missing = req.moves.find((m) => !productOf.has(m.batchId));
  if (missing) throw new NotFoundError('Batch', { batchId: missing.batchId });
  const moves: Move[] = req.moves.map((m) => ({
    batchId: m.batchId,
    branchId: req.branchId,
    productId: productOf.get(m.batchId)!,
    delta: m.delta,
    type: m.type,
    reason: m.reason ?? null,
    reference: m.reference ?? null,
    referenceId: m.referenceId ?? null,
    patientId: m.patientId ?? null,
    prescriptionId: m.prescriptionId ?? null,
    witnessId: req.witnessId ?? null,
  }));
  const controlled = await lockStockKeys(tx, moves);
  return commitMoves(tx, actor, req.branchId, req.today, moves, controlled);
}
