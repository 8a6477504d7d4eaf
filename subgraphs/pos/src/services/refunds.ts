import { z } from 'zod';
import { ConflictError, ForbiddenError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit, type TenantTx } from '@umi/db';
import type { Sale } from '@umi/db/tenant-models';
import { lockRow, moveBatches } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { actorOf, auditOf, branchDate, mayRefund, requireBranch } from '../policy';
import type { PosContext } from '../context';
import { recordSaleCompleted } from './checkout';

/** Locks the sale row for the rest of the transaction and returns it fresh. */
async function lockSale(tx: TenantTx, id: string): Promise<Sale> {
  await lockRow(tx, 'sales', id);
  const sale = await tx.sale.findUnique({ where: { id } });
  if (!sale) throw new NotFoundError('Sale', { field: 'id' });
  return sale;
}

/** Returns every unit of the sale to the batch it came from (REFUND movements). */
async function restock(tx: TenantTx, ctx: PosContext, sale: Sale, today: string, reason: string) {
  const items = await tx.saleItem.findMany({ where: { saleId: sale.id } });
  const perBatch = new Map<string, number>();
  for (const i of items) perBatch.set(i.batchId, (perBatch.get(i.batchId) ?? 0) + i.quantity);
  await moveBatches(tx, actorOf(ctx), {
    branchId: sale.branchId,
    today,
    moves: [...perBatch].map(([batchId, quantity]) => ({
      batchId,
      delta: quantity,
      type: 'REFUND' as const,
      reason,
      reference: sale.saleNumber,
      referenceId: sale.id,
    })),
  });
}

const refundSchema = z.object({ id: uuidSchema, reason: z.string().trim().min(3, 'is required (at least 3 characters)').max(500) });

/**
 * Refunds a sale in full, once: its stock goes back to the batches it came from and its payments
 * are marked refunded. ADMIN may refund any sale; the branch's PHARMACIST only on the sale's day.
 */
export async function refundSale(ctx: PosContext, args: unknown): Promise<string> {
  const { db, principal: p } = requireTenant(ctx);
  const data = parseInput(refundSchema, args, 'args');
  const found = await ctx.loaders.saleById.load(data.id);
  if (!found) throw new NotFoundError('Sale', { field: 'id' });
  const branch = await requireBranch(ctx, found.branchId, 'view', 'id');
  const today = branchDate(branch);
  if (!mayRefund(p, branch, found.createdAt)) {
    throw new ForbiddenError(p.role === 'PHARMACIST' ? 'A pharmacist may refund only on the day of the sale' : 'Only an ADMIN or the branch pharmacist may refund');
  }
  return db.transaction(async (tx) => {
    const sale = await lockSale(tx, data.id);
    if (sale.status !== 'COMPLETED') throw new ConflictError(`The sale is already ${sale.status}`);
    if (sale.paymentStatus !== 'PAID') throw new ConflictError('The sale is not paid yet; a pending payment is declined, not refunded');
    await restock(tx, ctx, sale, today, data.reason);
    const refund = await tx.refund.create({
      data: { saleId: sale.id, amount: sale.totalAmount, reason: data.reason, refundedBy: p.userId, tillSessionId: sale.tillSessionId },
    });
    await tx.sale.update({ where: { id: sale.id }, data: { status: 'REFUNDED', paymentStatus: 'REFUNDED' } });
    await tx.payment.updateMany({ where: { saleId: sale.id, status: 'COMPLETED' }, data: { status: 'REFUNDED' } });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'REFUND',
      entityType: 'Sale',
      entityId: sale.id,
      branchId: sale.branchId,
      oldValues: { status: sale.status },
      newValues: { status: 'REFUNDED', refundId: refund.id, amount: sale.totalAmount.toFixed(2), reason: data.reason },
    });
    return sale.id;
  });
}

const confirmSchema = z.object({
  paymentId: uuidSchema,
  approved: z.boolean(),
  providerReference: z.string().trim().min(1).max(100).nullish(),
});

/**
 * Records the provider's answer to a pending mobile-money request. Approved: the payment completes
 * and, once every payment has, the sale is PAID and `sale.completed` is recorded. Declined: the
 * sale is VOIDED, its stock returned and any completed part refunded. Answering twice is CONFLICT.
 */
export async function confirmPayment(ctx: PosContext, args: unknown): Promise<string> {
  const { db } = requireTenant(ctx);
  const data = parseInput(confirmSchema, args, 'args');
  const payment = await db.payment.findUnique({ where: { id: data.paymentId }, select: { saleId: true, sale: { select: { branchId: true } } } });
  if (!payment) throw new NotFoundError('Payment', { field: 'paymentId' });
  const branch = await requireBranch(ctx, payment.sale.branchId, 'sell', 'paymentId');
  return db.transaction(async (tx) => {
    const sale = await lockSale(tx, payment.saleId);
    const current = await tx.payment.findUniqueOrThrow({ where: { id: data.paymentId } });
    if (current.status !== 'PENDING') throw new ConflictError(`The payment is already ${current.status}`);
    const now = new Date();
    await tx.payment.update({
      where: { id: current.id },
      data: {
        status: data.approved ? 'COMPLETED' : 'FAILED',
        processedAt: data.approved ? now : null,
        ...(data.providerReference ? { providerReference: data.providerReference } : {}),
      },
    });
    const payments = await tx.payment.findMany({ where: { saleId: sale.id } });
    if (data.approved) {
      const paid = payments.every((p) => p.status === 'COMPLETED');
      await tx.sale.update({ where: { id: sale.id }, data: { paymentStatus: paid ? 'PAID' : 'PARTIALLY_PAID' } });
      if (paid) {
        const items = await tx.saleItem.findMany({ where: { saleId: sale.id } });
        await recordSaleCompleted(tx, ctx, { ...sale, totalAmount: sale.totalAmount.toFixed(2), items });
      }
    } else {
      await restock(tx, ctx, sale, branchDate(branch), 'payment declined');
      const anyTaken = payments.some((p) => p.status === 'COMPLETED');
      await tx.payment.updateMany({ where: { saleId: sale.id, status: { in: ['COMPLETED', 'PENDING'] } }, data: { status: 'REFUNDED' } });
      await tx.sale.update({ where: { id: sale.id }, data: { status: 'VOIDED', paymentStatus: anyTaken ? 'REFUNDED' : 'PENDING' } });
    }
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: data.approved ? 'PAYMENT_APPROVED' : 'PAYMENT_DECLINED',
      entityType: 'Payment',
      entityId: current.id,
      branchId: sale.branchId,
      newValues: { providerReference: data.providerReference ?? null },
    });
    return sale.id;
  });
}
