import { BadUserInputError, ConflictError, NotFoundError } from '@umi/kit';
import { sql, tables } from '@umi/db';
import { lockStockKeys, moveBatches, type ClinicalLink, type LedgerTx, type MovementRecord, type StockActor, type StockChange } from './stock';

/**
 * Quarantine of stock that came back from a customer. Returned medicine may have been stored
 * badly or tampered with, so it is never put straight back on sale: each lot's returned units wait
 * in a quarantine batch of their own (same branch, product, lot number and expiry; status
 * QUARANTINE, so never allocated and never counted as available; `quarantine_of` names the lot's
 * batch) until a pharmacist releases them into the lot or writes them off. Every change is a
 * ledger movement, so on-hand stays the sum of movements and the controlled register follows.
 *
 * Lock order as in stock.ts: the (branch, product) keys first, then the batches.
 */

export interface QuarantineMove extends ClinicalLink {
  /** The lot's batch the units were sold from. */
  batchId: string;
  quantity: number;
  reason?: string | null;
  reference?: string | null;
  referenceId?: string | null;
}

/**
 * Puts returned units into the quarantine batch of their lot (created on first use) with movements
 * of `type` (REFUND for a refunded sale). Returns the quarantine batch of each lot batch.
 */
export async function quarantineStock(
  tx: LedgerTx,
  actor: StockActor,
  req: { branchId: string; today: string; type: 'REFUND' | 'CUSTOMER_RETURN'; moves: QuarantineMove[] },
): Promise<Map<string, string>> {
  if (req.moves.length === 0) throw new BadUserInputError('Nothing to quarantine');
  const merged = new Map<string, QuarantineMove>();
  for (const m of req.moves) {
    if (!Number.isSafeInteger(m.quantity) || m.quantity <= 0) throw new BadUserInputError('quantity: must be a whole number above zero', { field: 'quantity' });
    const prev = merged.get(m.batchId);
    merged.set(m.batchId, prev ? { ...prev, quantity: prev.quantity + m.quantity } : { ...m });
  }
  const lots = await tx.sql.query<{ id: string; product_id: string; quarantine_of: string | null }>(
    sql`SELECT id::text, product_id::text, quarantine_of::text FROM ${tables.inventory_batches}
        WHERE id = ANY(${[...merged.keys()]}::uuid[]) AND branch_id = ${req.branchId}::uuid`,
  );
  const missing = [...merged.keys()].find((id) => !lots.some((l) => l.id === id));
  if (missing) throw new NotFoundError('Batch', { batchId: missing });
  if (lots.some((l) => l.quarantine_of !== null)) throw new BadUserInputError('A quarantine batch cannot itself be quarantined');
  await lockStockKeys(
    tx,
    lots.map((l) => ({ branchId: req.branchId, productId: l.product_id })),
  );
  const holding = await tx.sql.query<{ id: string; quarantine_of: string }>(
    sql`INSERT INTO ${tables.inventory_batches} AS q
          (branch_id, product_id, supplier_id, batch_number, expiry_date, cost_price, selling_price, location, status, quarantine_of)
        SELECT b.branch_id, b.product_id, b.supplier_id, b.batch_number, b.expiry_date, b.cost_price, b.selling_price, b.location, 'QUARANTINE', b.id
        FROM ${tables.inventory_batches} b WHERE b.id = ANY(${lots.map((l) => l.id)}::uuid[])
        ORDER BY b.id
        ON CONFLICT (quarantine_of) DO UPDATE SET updated_at = now()
        RETURNING q.id::text, q.quarantine_of::text`,
  );
  const holdingOf = new Map(holding.map((h) => [h.quarantine_of, h.id]));
  await moveBatches(tx, actor, {
    branchId: req.branchId,
    today: req.today,
    moves: [...merged.values()].map((m) => ({
      batchId: holdingOf.get(m.batchId)!,
      delta: m.quantity,
      type: req.type,
      reason: m.reason ?? null,
      reference: m.reference ?? null,
      referenceId: m.referenceId ?? null,
      patientId: m.patientId ?? null,
      prescriptionId: m.prescriptionId ?? null,
    })),
  });
  return holdingOf;
}

export interface QuarantineDecision {
  branchId: string;
  /** The branch's local date: units of an expired lot cannot be released. */
  today: string;
  /** The quarantine batch. */
  batchId: string;
  quantity: number;
  reason: string;
  reference?: string | null;
  /** The second person who witnessed a write-off (required for controlled stock). */
  witnessId?: string | null;
}

interface HoldingBatch {
  id: string;
  quarantine_of: string | null;
  expiry_date: string;
  quantity_on_hand: number;
}

async function holdingBatch(tx: LedgerTx, req: QuarantineDecision): Promise<HoldingBatch & { quarantine_of: string }> {
  if (!Number.isSafeInteger(req.quantity) || req.quantity <= 0) throw new BadUserInputError('quantity: must be a whole number above zero', { field: 'quantity' });
  const batch = await tx.sql.maybeOne<HoldingBatch>(
    sql`SELECT id::text, quarantine_of::text, expiry_date::text, quantity_on_hand FROM ${tables.inventory_batches}
        WHERE id = ${req.batchId}::uuid AND branch_id = ${req.branchId}::uuid`,
  );
  if (!batch) throw new NotFoundError('Batch', { batchId: req.batchId });
  if (batch.quarantine_of === null) throw new BadUserInputError('batchId: not a quarantine batch of returned stock', { field: 'batchId' });
  return { ...batch, quarantine_of: batch.quarantine_of };
}

/** Moves the stock change's INSUFFICIENT_STOCK into the quarantine's own terms. */
async function fromQuarantine<T>(batch: HoldingBatch, quantity: number, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (err) {
    if (err instanceof ConflictError && err.extensions.reason === 'INSUFFICIENT_STOCK' && err.extensions.batchId === batch.id) {
      throw new ConflictError(`Only ${batch.quantity_on_hand} units are in quarantine, not ${quantity}`, {
        reason: 'QUARANTINE_EXCEEDED',
        quarantined: batch.quantity_on_hand,
      });
    }
    throw err;
  }
}

/**
 * Releases quarantined units back into their lot, where they may be sold again (a pharmacist's
 * decision that they are fit for sale). Units of an expired lot are written off, never released:
 * CONFLICT reason BATCH_EXPIRED.
 */
export async function releaseQuarantine(tx: LedgerTx, actor: StockActor, req: QuarantineDecision): Promise<StockChange<MovementRecord> & { lotBatchId: string }> {
  const batch = await holdingBatch(tx, req);
  if (batch.expiry_date <= req.today) {
    throw new ConflictError(`The lot expired on ${batch.expiry_date}: write the units off instead`, { reason: 'BATCH_EXPIRED', expiryDate: batch.expiry_date });
  }
  const move = { type: 'QUARANTINE_RELEASE' as const, reason: req.reason, reference: req.reference ?? 'QUARANTINE', referenceId: batch.id };
  const change = await fromQuarantine(batch, req.quantity, () =>
    moveBatches(tx, actor, {
      branchId: req.branchId,
      today: req.today,
      moves: [
        { ...move, batchId: batch.id, delta: -req.quantity },
        { ...move, batchId: batch.quarantine_of, delta: req.quantity },
      ],
    }),
  );
  return { ...change, lotBatchId: batch.quarantine_of };
}

/** Writes quarantined units off for good (damaged, tampered with, expired). */
export async function writeOffQuarantine(tx: LedgerTx, actor: StockActor, req: QuarantineDecision): Promise<StockChange<MovementRecord>> {
  const batch = await holdingBatch(tx, req);
  return fromQuarantine(batch, req.quantity, () =>
    moveBatches(tx, actor, {
      branchId: req.branchId,
      today: req.today,
      moves: [{ batchId: batch.id, delta: -req.quantity, type: 'QUARANTINE_WRITE_OFF', reason: req.reason, reference: req.reference ?? 'QUARANTINE', referenceId: batch.id }],
      witnessId: req.witnessId ?? null,
    }),
  );
}
