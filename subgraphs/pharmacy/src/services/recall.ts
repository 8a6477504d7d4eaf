import { z } from 'zod';
import { BadUserInputError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { sql, tables } from '@umi/db';
import { requireTenant } from '@umi/subgraph';
import { branchRules, requireBranch } from '../policy';
import type { PharmacyContext } from '../context';

/** A branch's batch of the recalled lot. */
export interface RecallBatchRow {
  id: string;
  branch_id: string;
  product_id: string;
  batch_number: string;
  expiry_date: string;
  status: string;
  quantity_on_hand: number;
}

/** A movement of a recalled batch with what it reached; clinical links already cut to what the caller may see. */
export interface RecallMovementRow {
  occurred_at: Date;
  movement_type: string;
  quantity: number;
  branch_id: string;
  product_id: string;
  batch_number: string;
  reference: string | null;
  sale_id: string | null;
  prescription_id: string | null;
  patient_id: string | null;
  counterpart_branch_id: string | null;
}

export interface BatchRecallResult {
  batchNumber: string;
  batches: RecallBatchRow[];
  movements: RecallMovementRow[];
  /** Patients the caller may see, in order of first supply. */
  patientIds: string[];
  patientsReached: number;
  unitsSupplied: number;
}

const argsSchema = z
  .object({
    batchId: uuidSchema.nullish(),
    batchNumber: z.string().trim().min(1, 'must not be blank').max(100).nullish(),
    productId: uuidSchema.nullish(),
  })
  .refine((a) => Boolean(a.batchId) !== Boolean(a.batchNumber), { message: 'give either batchId or batchNumber', path: ['batchId'] });

/** Movements that hand units to a customer or a patient. */
const SUPPLIES: ReadonlySet<string> = new Set(['SALE', 'DISPENSE']);

/**
 * Where a lot went: its batches at the branches the caller may see (a batch id stands for its
 * product's lot, followed across branches by number as transfers keep it), every movement of
 * them, and the sales, prescriptions, transfers and patients each reached. Three statements, each
 * an indexed lookup (the lot index, the movements' batch index, primary keys), whatever the size
 * of the tenant; a batch's movements are bounded by the units it ever held. Prescriptions and
 * patients are shown only where the caller may see them (not to cashiers); the count of patients
 * reached is given to everyone who may run the recall.
 */
export async function batchRecall(ctx: PharmacyContext, rawArgs: unknown): Promise<BatchRecallResult> {
  const { db, tenant, principal } = requireTenant(ctx);
  const args = parseInput(argsSchema, rawArgs, 'args');
  let lot: { batchNumber: string; productId: string | null };
  if (args.batchId) {
    const batch = await db.inventoryBatch.findUnique({ where: { id: args.batchId }, select: { branchId: true, productId: true, batchNumber: true } });
    if (!batch) throw new NotFoundError('Batch', { field: 'batchId' });
    await requireBranch(ctx, batch.branchId, 'recall', 'batchId');
    if (args.productId && args.productId.toLowerCase() !== batch.productId) {
      throw new BadUserInputError('productId: the batch is of another product', { field: 'productId' });
    }
    lot = { batchNumber: batch.batchNumber, productId: batch.productId };
  } else {
    lot = { batchNumber: args.batchNumber!, productId: args.productId ?? null };
  }

  const visible = (await ctx.deps.branches.list(tenant.id)).map((b) => b.id).filter((id) => branchRules.recall(principal, id));
  const batches = await db.sql.query<RecallBatchRow>(
    sql`SELECT id::text, branch_id::text, product_id::text, batch_number, expiry_date::text, status, quantity_on_hand
        FROM ${tables.inventory_batches}
        WHERE upper(batch_number) = upper(${lot.batchNumber}) ${lot.productId ? sql`AND product_id = ${lot.productId}::uuid` : sql``}
          AND branch_id = ANY(${visible}::uuid[])
        ORDER BY product_id, branch_id`,
  );
  const rows =
    batches.length === 0
      ? []
      : await db.sql.query<Omit<RecallMovementRow, 'batch_number'> & { batch_id: string }>(
          // A sale names its patient; a dispensing (before dispensing became a sale) its prescription;
          // a controlled line both. Whichever the movement's reference is, it is looked up by key. A
          // till sale's movements carry no reference text (written before the sale had its number).
          sql`SELECT m.created_at AS occurred_at, m.type AS movement_type, m.quantity, m.branch_id::text, m.product_id::text, m.batch_id::text,
                     coalesce(m.reference, s.sale_number) AS reference,
                     s.id::text AS sale_id, coalesce(rx.id, cr.prescription_id, s.prescription_ids[1])::text AS prescription_id,
                     coalesce(s.patient_id, rx.patient_id, cr.patient_id)::text AS patient_id,
                     (CASE m.type WHEN 'TRANSFER_OUT' THEN t.to_branch_id WHEN 'TRANSFER_IN' THEN t.from_branch_id END)::text AS counterpart_branch_id
              FROM ${tables.stock_movements} m
              LEFT JOIN ${tables.sales} s ON m.type IN ('SALE', 'DISPENSE', 'REFUND') AND s.id = m.reference_id
              LEFT JOIN ${tables.prescriptions} rx ON m.type = 'DISPENSE' AND rx.id = m.reference_id
              LEFT JOIN ${tables.controlled_register} cr ON cr.movement_id = m.id
              LEFT JOIN ${tables.stock_transfers} t ON m.type IN ('TRANSFER_OUT', 'TRANSFER_IN') AND t.id = m.reference_id
              WHERE m.batch_id = ANY(${batches.map((b) => b.id)}::uuid[])
              ORDER BY m.created_at, m.id`,
        );

  const numberOf = new Map(batches.map((b) => [b.id, b.batch_number]));
  const reached = new Set<string>();
  const shown: string[] = [];
  let unitsSupplied = 0;
  const movements = rows.map(({ batch_id, ...row }): RecallMovementRow => {
    const m = { ...row, batch_number: numberOf.get(batch_id)! };
    // Supplies are negative, refunds positive: units out net of units back.
    if (SUPPLIES.has(m.movement_type) || m.movement_type === 'REFUND') unitsSupplied -= m.quantity;
    const clinical = branchRules.view(principal, m.branch_id);
    if (m.patient_id && SUPPLIES.has(m.movement_type) && !reached.has(m.patient_id)) {
      reached.add(m.patient_id);
      if (clinical) shown.push(m.patient_id);
    }
    return clinical ? m : { ...m, patient_id: null, prescription_id: null };
  });
  return { batchNumber: batches[0]?.batch_number ?? lot.batchNumber, batches, movements, patientIds: shown, patientsReached: reached.size, unitsSupplied };
}
