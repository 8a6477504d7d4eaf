import { BadUserInputError } from '@umi/kit';
import { sql, tables, type SqlRunner } from '@umi/db';

/**
 * The controlled-substance register: one line per stock movement of a controlled product, written
 * by the stock ledger in the movement's transaction while it holds the (branch, product) lock, so
 * each line's running balance is exact and lines are numbered in the order their balances chain.
 */

/** Written on register lines beyond the movement itself: who witnessed it, where it came from. */
export interface RegisterDetail {
  /** The second person who witnessed a write-off or destruction (required for controlled stock). */
  witnessId?: string | null;
  /** The supplier of a receipt. */
  supplierId?: string | null;
  /** The supplier's delivery note or invoice number of a receipt. */
  deliveryReference?: string | null;
}

/** One controlled movement to record, in the order the ledger applied it. */
export interface RegisterLine extends RegisterDetail {
  productId: string;
  batchId: string;
  movementId: string;
  type: string;
  delta: number;
  reference: string | null;
  patientId?: string | null;
  prescriptionId?: string | null;
}

/** Who moved the stock, as the register needs it. */
export interface RegisterActor {
  userId: string | null;
  /** The actor holds the PHARMACIST role: a supply they make against a prescription is theirs. */
  isPharmacist?: boolean;
  /**
   * A scheduled job acting for the platform (e.g. `system:jobs`) rather than a person; userId is
   * then null, and the register line names no pharmacist.
   */
  system?: string;
}

/** Movements that take controlled stock out of existence rather than to someone: they need a witness. */
const WITNESSED_TYPES: ReadonlySet<string> = new Set(['ADJUSTMENT', 'STOCKTAKE', 'EXPIRY_WRITE_OFF', 'QUARANTINE_WRITE_OFF']);

/**
 * Refuses a write-off, negative count or destruction of controlled stock that names no witness
 * (BAD_USER_INPUT, reason WITNESS_REQUIRED), or names the actor as their own witness (reason
 * WITNESS_INVALID). That the witness is a user of the tenant with access to the branch is the
 * calling service's check (users live in the shared schema); this is the ledger's floor.
 */
export function assertWitnessed(actor: RegisterActor, lines: Pick<RegisterLine, 'type' | 'delta' | 'witnessId'>[]): void {
  for (const l of lines) {
    if (l.delta >= 0 || !WITNESSED_TYPES.has(l.type)) continue;
    // The scheduled expiry write-off has no second person to call. It runs as the system: its
    // register lines name no pharmacist and its audit row names the job, so an inspector tells
    // them apart from a person's write-off (which still needs its witness).
    if (actor.system && actor.userId === null && l.type === 'EXPIRY_WRITE_OFF') continue;
    if (!l.witnessId) {
      throw new BadUserInputError('Writing off or destroying a controlled substance needs a witness (witnessUserId)', {
        reason: 'WITNESS_REQUIRED',
        field: 'witnessUserId',
      });
    }
    if (l.witnessId === actor.userId) {
      throw new BadUserInputError('The witness must be a second person, not the one recording the change', { reason: 'WITNESS_INVALID', field: 'witnessUserId' });
    }
  }
}

/**
 * Appends the register lines of one branch, with the running balance of each product (all
 * batches) after each line; the caller holds the (branch, product) locks and has applied the
 * movements. The responsible pharmacist is the actor, except for a supply against a prescription
 * by someone who is not a pharmacist (a cashier's till sale): then the pharmacist who verified
 * the prescription answers for it.
 */
export async function writeRegister(tx: { readonly sql: SqlRunner }, actor: RegisterActor, branchId: string, lines: RegisterLine[]): Promise<void> {
  if (lines.length === 0) return;
  const productIds = [...new Set(lines.map((m) => m.productId))];
  const totals = await tx.sql.query<{ product_id: string; total: number }>(
    sql`SELECT product_id::text, sum(quantity_on_hand)::int AS total FROM ${tables.inventory_batches}
        WHERE branch_id = ${branchId}::uuid AND product_id = ANY(${productIds}::uuid[]) GROUP BY product_id`,
  );
  const balance = new Map(totals.map((r) => [r.product_id, r.total]));
  // Walk backwards from the final balance: each line's balance is the next line's minus its change.
  const balances: number[] = new Array<number>(lines.length);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = lines[i]!;
    const after = balance.get(m.productId) ?? 0;
    balances[i] = after;
    balance.set(m.productId, after - m.delta);
  }
  const actorId = actor.userId;
  const supplies = actor.isPharmacist === true;
  // Inserted in the moves' order, so line_no (the sequence) follows the balances.
  await tx.sql.execute(
    sql`INSERT INTO ${tables.controlled_register}
          (branch_id, product_id, batch_id, movement_id, quantity, balance_after, reference, patient_id, prescription_id, pharmacist_id,
           witness_id, supplier_id, delivery_reference)
        SELECT ${branchId}::uuid, r.product_id, r.batch_id, r.movement_id, r.quantity, r.balance_after, r.reference, r.patient_id, r.prescription_id,
               CASE WHEN r.prescription_id IS NOT NULL AND NOT ${supplies}::boolean THEN coalesce(rx.verified_by, ${actorId}::uuid) ELSE ${actorId}::uuid END,
               r.witness_id, r.supplier_id, r.delivery_reference
        FROM unnest(${lines.map((m) => m.productId)}::uuid[], ${lines.map((m) => m.batchId)}::uuid[], ${lines.map((m) => m.movementId)}::uuid[],
                    ${lines.map((m) => m.delta)}::int[], ${balances}::int[], ${lines.map((m) => m.reference)}::text[],
                    ${lines.map((m) => m.patientId ?? null)}::uuid[], ${lines.map((m) => m.prescriptionId ?? null)}::uuid[],
                    ${lines.map((m) => m.witnessId ?? null)}::uuid[], ${lines.map((m) => m.supplierId ?? null)}::uuid[],
                    ${lines.map((m) => m.deliveryReference ?? null)}::text[]) WITH ORDINALITY
          AS r(product_id, batch_id, movement_id, quantity, balance_after, reference, patient_id, prescription_id, witness_id, supplier_id, delivery_reference, ord)
        LEFT JOIN ${tables.prescriptions} rx ON rx.id = r.prescription_id
        ORDER BY r.ord`,
  );
}
