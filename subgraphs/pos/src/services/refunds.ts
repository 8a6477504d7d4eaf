import { randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import { z } from 'zod';
import { ConflictError, ForbiddenError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit, sql, tables, type TenantTx } from '@umi/db';
import type { Sale } from '@umi/db/tenant-models';
import { lockRow, quarantineStock } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { actorOf, auditOf, branchDate, mayRefund, requireBranch } from '../policy';
import type { PosContext } from '../context';
import { CREDIT_NOTE_REASON_NAMES } from '../fiscal/codes';
import { enqueueFiscal } from '../fiscal/queue';
import { PosReason } from '../reasons';
import { linePaid, planPayouts, refundShare, type RefundableLine } from '../refund-lines';
import { ownOpenSession } from './tills';

/** Locks the sale row for the rest of the transaction and returns it fresh. */
export async function lockSale(tx: TenantTx, id: string): Promise<Sale> {
  await lockRow(tx, 'sales', id);
  const sale = await tx.sale.findFirst({ where: { id } });
  if (!sale) throw new NotFoundError('Sale', { field: 'id' });
  return sale;
}

/** What a payment of the sale took and has already given back; read under the sale's lock. */
export function paymentsWithPayouts(tx: TenantTx, saleId: string) {
  return tx.sql.query<{ id: string; method: string; amount: string; status: string; till_session_id: string | null; paid_out: string }>(
    sql`SELECT p.id::text, p.method, p.amount::text, p.status, p.till_session_id::text,
               coalesce((SELECT sum(o.amount) FROM ${tables.payouts} o WHERE o.payment_id = p.id), 0)::text AS paid_out
        FROM ${tables.payments} p WHERE p.sale_id = ${saleId}::uuid ORDER BY p.id`,
  );
}

interface SaleLine extends RefundableLine {
  id: string;
  productId: string;
  batchId: string;
  batchNumber: string;
}

/** The sale's lines with what each has given back so far; read under the sale's lock. */
async function refundableLines(tx: TenantTx, sale: Sale): Promise<SaleLine[]> {
  const rows = await tx.sql.query<{
    id: string;
    product_id: string;
    batch_id: string;
    batch_number: string;
    quantity: number;
    line_total: string;
    discount_amount: string;
    tax_amount: string;
    refunded_quantity: number;
    refunded_amount: string;
    refunded_tax: string;
  }>(
    sql`SELECT i.id::text, i.product_id::text, i.batch_id::text, i.batch_number, i.quantity, i.line_total::text, i.discount_amount::text, i.tax_amount::text,
               coalesce(sum(r.quantity), 0)::int AS refunded_quantity, coalesce(sum(r.amount), 0)::text AS refunded_amount,
               coalesce(sum(r.tax_amount), 0)::text AS refunded_tax
        FROM ${tables.sale_items} i LEFT JOIN ${tables.refund_items} r ON r.sale_item_id = i.id
        WHERE i.sale_id = ${sale.id}::uuid AND i.sale_created_at = ${sale.createdAt}::timestamptz
        GROUP BY i.id, i.sale_created_at ORDER BY i.product_id, i.batch_number, i.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    productId: r.product_id,
    batchId: r.batch_id,
    batchNumber: r.batch_number,
    quantity: r.quantity,
    paid: linePaid({ lineTotal: r.line_total, discountAmount: r.discount_amount, taxAmount: r.tax_amount }, sale.pricesIncludeTax),
    taxAmount: new Decimal(r.tax_amount).toFixed(2),
    refundedQuantity: r.refunded_quantity,
    refundedAmount: new Decimal(r.refunded_amount).toFixed(2),
    refundedTaxAmount: new Decimal(r.refunded_tax).toFixed(2),
  }));
}

const lineSchema = z
  .object({
    saleItemId: uuidSchema.nullish(),
    productId: uuidSchema.nullish(),
    quantity: z.number().int('must be a whole number').min(1, 'must be above zero').max(100_000),
  })
  .refine((l) => Boolean(l.saleItemId) !== Boolean(l.productId), { message: 'give either saleItemId or productId', path: ['saleItemId'] });
type LineRequest = z.infer<typeof lineSchema>;

const refundSchema = z.object({
  id: uuidSchema,
  reason: z.string().trim().min(3, 'is required (at least 3 characters)').max(500),
  lines: z.array(lineSchema).min(1).max(200).nullish(),
  tillSessionId: uuidSchema.nullish(),
  creditNoteReason: z.enum(CREDIT_NOTE_REASON_NAMES).nullish(),
});

/**
 * The quantity to refund of each line. Without a request, everything not yet refunded. A request
 * names a line (saleItemId) or a product (spread over its lines in a fixed order); asking for more
 * than remains is CONFLICT REFUND_EXCEEDS_REMAINING with the quantity left.
 */
function pickLines(lines: SaleLine[], requests: LineRequest[] | null | undefined): { line: SaleLine; quantity: number }[] {
  const take = new Map<string, number>();
  const left = (l: SaleLine) => l.quantity - l.refundedQuantity - (take.get(l.id) ?? 0);
  if (!requests) {
    for (const l of lines) if (left(l) > 0) take.set(l.id, left(l));
  } else {
    // Named lines first, so that a product request spreads over what they leave.
    const ordered = requests.map((r, i) => ({ r, i })).sort((a, b) => Number(Boolean(b.r.saleItemId)) - Number(Boolean(a.r.saleItemId)) || a.i - b.i);
    for (const { r, i } of ordered) {
      const field = r.saleItemId ? `lines[${i}].saleItemId` : `lines[${i}].productId`;
      const target = r.saleItemId ? lines.filter((l) => l.id === r.saleItemId!.toLowerCase()) : lines.filter((l) => l.productId === r.productId!.toLowerCase());
      if (target.length === 0) throw new NotFoundError('Sale line', { field });
      const remaining = target.reduce((s, l) => s + left(l), 0);
      if (r.quantity > remaining) {
        throw new ConflictError(`${r.quantity} asked back, ${remaining} left to refund on this line`, {
          reason: PosReason.REFUND_EXCEEDS_REMAINING,
          field,
          remaining,
        });
      }
      let wanted = r.quantity;
      for (const l of target) {
        const q = Math.min(wanted, left(l));
        if (q > 0) take.set(l.id, (take.get(l.id) ?? 0) + q);
        wanted -= q;
      }
    }
  }
  const picked = lines.filter((l) => take.has(l.id)).map((line) => ({ line, quantity: take.get(line.id)! }));
  if (picked.length === 0) throw new ConflictError('Nothing is left to refund on this sale', { reason: PosReason.SALE_NOT_REFUNDABLE });
  return picked;
}

/**
 * Refunds a sale in whole or in part (per line, per quantity), as a credit note of today: each unit
 * at most once; the amount and VAT of each line in proportion to its quantity (the line's last
 * refund takes the remainder, so the parts add up to the sale exactly); the units go into
 * quarantine, not back on sale; the money is paid out of the refunder's own open till session at
 * the sale's branch (never the sale's session, which may be closed), back through the payments
 * it came in by. ADMIN may refund any sale; the branch's PHARMACIST only on the sale's day.
 */
export async function refundSale(ctx: PosContext, args: unknown): Promise<string> {
  const { db, principal: p } = requireTenant(ctx);
  const data = parseInput(refundSchema, args, 'args');
  const found = await ctx.loaders.saleById.load(data.id);
  if (!found) throw new NotFoundError('Sale', { field: 'id' });
  const branch = await requireBranch(ctx, found.branchId, 'view', 'id');
  if (!mayRefund(p, branch, found.createdAt)) {
    throw new ForbiddenError(p.role === 'PHARMACIST' ? 'A pharmacist may refund only on the day of the sale' : 'Only an ADMIN or the branch pharmacist may refund');
  }
  return db.transaction(async (tx) => {
    const sale = await lockSale(tx, data.id);
    if ((sale.status !== 'COMPLETED' && sale.status !== 'PARTIALLY_REFUNDED') || sale.paymentStatus !== 'PAID') {
      throw new ConflictError(
        sale.status === 'COMPLETED' || sale.status === 'PENDING_PAYMENT'
          ? 'The sale is not paid yet; a pending payment is declined, not refunded'
          : `The sale is already ${sale.status}`,
        { reason: PosReason.SALE_NOT_REFUNDABLE },
      );
    }
    const session = await ownOpenSession(tx, p, sale.branchId, data.tillSessionId, 'tillSessionId');
    const lines = await refundableLines(tx, sale);
    const picked = pickLines(lines, data.lines).map((x) => ({ ...x, ...refundShare(x.line, x.quantity) }));
    const amount = picked.reduce((s, x) => s.plus(x.amount), new Decimal(0));
    const taxAmount = picked.reduce((s, x) => s.plus(x.taxAmount), new Decimal(0));

    const quarantine = await quarantineStock(tx, actorOf(ctx), {
      branchId: sale.branchId,
      today: branchDate(branch),
      type: 'REFUND',
      moves: picked.map((x) => ({
        batchId: x.line.batchId,
        quantity: x.quantity,
        reason: data.reason,
        reference: sale.saleNumber,
        referenceId: sale.id,
        patientId: sale.patientId,
      })),
    });
    const refundId = randomUUID();
    await tx.refund.create({
      data: {
        id: refundId,
        saleId: sale.id,
        branchId: sale.branchId,
        tillSessionId: session.id,
        amount: amount.toFixed(2),
        taxAmount: taxAmount.toFixed(2),
        reason: data.reason,
        refundedBy: p.userId,
      },
    });
    await tx.refundItem.createMany({
      data: picked.map((x) => ({
        refundId,
        saleItemId: x.line.id,
        quantity: x.quantity,
        amount: x.amount,
        taxAmount: x.taxAmount,
        quarantineBatchId: quarantine.get(x.line.batchId) ?? null,
      })),
    });

    const payments = (await paymentsWithPayouts(tx, sale.id)).filter((x) => x.status === 'COMPLETED');
    const payouts = planPayouts(
      amount.toFixed(2),
      payments.map((x) => ({ id: x.id, method: x.method, amount: x.amount, paidOut: x.paid_out })),
      sale.paymentMethod,
    );
    if (payouts.length > 0) {
      await tx.payout.createMany({
        data: payouts.map((o) => ({ tillSessionId: session.id, saleId: sale.id, paymentId: o.paymentId, refundId, method: o.method, amount: o.amount, paidBy: p.userId })),
      });
    }
    const settled = payments.filter((x) => {
      const out = payouts.find((o) => o.paymentId === x.id);
      return out !== undefined && new Decimal(x.paid_out).plus(out.amount).eq(x.amount);
    });
    if (settled.length > 0) await tx.payment.updateMany({ where: { id: { in: settled.map((x) => x.id) } }, data: { status: 'REFUNDED' } });

    const whole = lines.every((l) => l.refundedQuantity + (picked.find((x) => x.line.id === l.id)?.quantity ?? 0) === l.quantity);
    const status = whole ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    await tx.sale.update({ where: { id_createdAt: { id: sale.id, createdAt: sale.createdAt } }, data: { status, paymentStatus: whole ? 'REFUNDED' : 'PAID' } });
    await enqueueFiscal(tx, { kind: 'CREDIT_NOTE', refundId, reason: data.creditNoteReason });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'REFUND',
      entityType: 'Sale',
      entityId: sale.id,
      branchId: sale.branchId,
      oldValues: { status: sale.status },
      newValues: {
        status,
        refundId,
        tillSessionId: session.id,
        amount: amount.toFixed(2),
        taxAmount: taxAmount.toFixed(2),
        reason: data.reason,
        lines: picked.map((x) => ({ saleItemId: x.line.id, quantity: x.quantity, amount: x.amount, taxAmount: x.taxAmount })),
      },
    });
    return sale.id;
  });
}
