import { ConflictError, ForbiddenError } from '@umi/kit';
import { sql, tables, type TenantTx } from '@umi/db';
import type { Allocation } from '@umi/ledger';
import { SupplyReason } from './reasons';

/**
 * Supplying against prescriptions: every supply (a till sale of a prescribed product, or a
 * dispensing) consumes what the prescription item has left, in the supply's transaction, under the
 * row locks of the prescriptions and their items. What remains of an item is its quantity less
 * what was supplied; asking more is CONFLICT PRESCRIPTION_EXHAUSTED. DISPENSED, CANCELLED, PENDING
 * (unverified) and expired prescriptions supply nothing.
 */

export interface LockedPrescription {
  id: string;
  prescription_number: string;
  branch_id: string;
  patient_id: string;
  status: string;
  valid_until: string;
  verified_by: string | null;
  prescriber_name: string;
  prescriber_license: string | null;
}

export interface LockedItem {
  id: string;
  prescription_id: string;
  product_id: string;
  line_no: number;
  quantity: number;
  quantity_dispensed: number;
  course_days: number | null;
}

/**
 * Locks the prescriptions (FOR UPDATE, in id order) and then all their items (in id order). This
 * is the first lock any supply takes: prescriptions, then items, then the till session (shared),
 * then stock (ledger order), so two supplies over the same prescription or stock queue instead of
 * deadlocking.
 */
export async function lockPrescriptions(tx: TenantTx, ids: string[]): Promise<{ prescriptions: LockedPrescription[]; items: LockedItem[] }> {
  const uniq = [...new Set(ids.map((id) => id.toLowerCase()))].sort();
  if (uniq.length === 0) return { prescriptions: [], items: [] };
  const prescriptions = await tx.sql.query<LockedPrescription>(
    sql`SELECT id::text, prescription_number, branch_id::text, patient_id::text, status, valid_until::text, verified_by::text, prescriber_name, prescriber_license
        FROM ${tables.prescriptions} WHERE id = ANY(${uniq}::uuid[]) ORDER BY id FOR UPDATE`,
  );
  const items = await tx.sql.query<LockedItem>(
    sql`SELECT id::text, prescription_id::text, product_id::text, line_no, quantity, quantity_dispensed, course_days
        FROM ${tables.prescription_items} WHERE prescription_id = ANY(${uniq}::uuid[]) ORDER BY id FOR UPDATE`,
  );
  return { prescriptions, items };
}

/** Why a prescription supplies nothing today, or null when it may supply. */
export function refusalOf(rx: LockedPrescription, today: string): ConflictError | null {
  if (rx.status === 'CANCELLED') return new ConflictError(`${rx.prescription_number} is cancelled`, { reason: SupplyReason.PRESCRIPTION_CANCELLED });
  if (rx.valid_until < today) return new ConflictError(`${rx.prescription_number} expired on ${rx.valid_until}`, { reason: SupplyReason.PRESCRIPTION_EXPIRED });
  if (rx.status === 'PENDING' || !rx.verified_by) {
    return new ConflictError(`${rx.prescription_number} has not been verified by a pharmacist yet`, { reason: SupplyReason.PRESCRIPTION_NOT_VERIFIED });
  }
  return null;
}

/** The item's units taken by one supply. */
export interface ItemTake {
  itemId: string;
  prescriptionId: string;
  productId: string;
  quantity: number;
}

export function exhausted(productName: string, productId: string, asked: number, remaining: number): ConflictError {
  return new ConflictError(`The prescription has ${remaining} of ${productName} left to supply, ${asked} asked`, {
    reason: SupplyReason.PRESCRIPTION_EXHAUSTED,
    productId,
    requested: asked,
    remaining,
  });
}

/**
 * Plans a till sale's supply against the prescriptions named (already locked): each cart line of a
 * product the prescriptions list takes from their items, oldest line first. A prescription-only
 * product must be covered in full (FORBIDDEN when no usable prescription of the patient lists it,
 * CONFLICT PRESCRIPTION_EXHAUSTED when what is left is short); an over-the-counter product listed
 * takes what is left and the rest is an ordinary sale.
 */
export function planTillSupply(
  locked: { prescriptions: LockedPrescription[]; items: LockedItem[] },
  args: {
    patientId: string | null;
    today: string;
    lines: { productId: string; quantity: number; name: string; prescriptionOnly: boolean }[];
  },
): ItemTake[] {
  const usable = new Map<string, LockedPrescription>();
  const refusals = new Map<string, ConflictError>();
  for (const rx of locked.prescriptions) {
    if (rx.patient_id !== args.patientId) continue;
    const refusal = refusalOf(rx, args.today);
    if (refusal) refusals.set(rx.id, refusal);
    else usable.set(rx.id, rx);
  }
  const takes: ItemTake[] = [];
  for (const line of args.lines) {
    const items = locked.items.filter((i) => i.product_id === line.productId && usable.has(i.prescription_id));
    if (items.length === 0) {
      if (!line.prescriptionOnly) continue;
      // The only prescriptions that list it are refused: say why (expired, unverified, cancelled).
      const listing = locked.items.find((i) => i.product_id === line.productId && refusals.has(i.prescription_id));
      if (listing) throw refusals.get(listing.prescription_id)!;
      throw new ForbiddenError(`No valid verified prescription of this patient covers: ${line.name}`);
    }
    const remaining = items.reduce((n, i) => n + Math.max(0, i.quantity - i.quantity_dispensed), 0);
    if (line.prescriptionOnly && remaining < line.quantity) throw exhausted(line.name, line.productId, line.quantity, remaining);
    let wanted = Math.min(line.quantity, remaining);
    for (const item of items) {
      const left = item.quantity - item.quantity_dispensed;
      if (wanted === 0) break;
      if (left <= 0) continue;
      const take = Math.min(left, wanted);
      takes.push({ itemId: item.id, prescriptionId: item.prescription_id, productId: item.product_id, quantity: take });
      wanted -= take;
    }
  }
  return takes;
}

/**
 * Records what a supply took from prescription items: the items' supplied quantities, one
 * dispensed_items row per item and batch (linked to the sale), and each prescription's status
 * (DISPENSED once every item is supplied in full, else PARTIALLY_DISPENSED). `allocations` are the
 * stock movements of the supply; each product's units are handed to its takes in order.
 */
export async function applySupply(
  tx: TenantTx,
  takes: ItemTake[],
  allocations: Allocation[],
  by: { userId: string; isPharmacist: boolean; saleId: string },
): Promise<void> {
  if (takes.length === 0) return;
  const pools = new Map<string, { batchId: string; left: number }[]>();
  for (const a of allocations) pools.set(a.productId, [...(pools.get(a.productId) ?? []), { batchId: a.batchId, left: a.taken }]);
  const rows: { itemId: string; batchId: string; quantity: number }[] = [];
  for (const t of takes) {
    let need = t.quantity;
    for (const b of pools.get(t.productId) ?? []) {
      if (need === 0) break;
      const q = Math.min(b.left, need);
      if (q === 0) continue;
      rows.push({ itemId: t.itemId, batchId: b.batchId, quantity: q });
      b.left -= q;
      need -= q;
    }
    if (need > 0) throw new Error(`applySupply: ${t.quantity} of item ${t.itemId} planned but not allocated`);
  }
  await tx.sql.execute(
    sql`UPDATE ${tables.prescription_items} i SET quantity_dispensed = i.quantity_dispensed + t.quantity
        FROM unnest(${takes.map((t) => t.itemId)}::uuid[], ${takes.map((t) => t.quantity)}::int[]) AS t(id, quantity)
        WHERE i.id = t.id`,
  );
  await tx.sql.execute(
    sql`INSERT INTO ${tables.dispensed_items} (prescription_item_id, batch_id, quantity, dispensed_by, sale_id)
        SELECT r.item_id, r.batch_id, r.quantity, ${by.userId}::uuid, ${by.saleId}::uuid
        FROM unnest(${rows.map((r) => r.itemId)}::uuid[], ${rows.map((r) => r.batchId)}::uuid[], ${rows.map((r) => r.quantity)}::int[]) AS r(item_id, batch_id, quantity)`,
  );
  const ids = [...new Set(takes.map((t) => t.prescriptionId))];
  await tx.sql.execute(
    sql`UPDATE ${tables.prescriptions} p
        SET status = CASE WHEN NOT EXISTS (SELECT 1 FROM ${tables.prescription_items} i WHERE i.prescription_id = p.id AND i.quantity_dispensed < i.quantity)
                          THEN 'DISPENSED' ELSE 'PARTIALLY_DISPENSED' END,
            dispensed_at = now(), updated_at = now(),
            pharmacist_id = CASE WHEN ${by.isPharmacist}::boolean THEN ${by.userId}::uuid ELSE coalesce(p.pharmacist_id, p.verified_by) END
        WHERE p.id = ANY(${ids}::uuid[])`,
  );
}
