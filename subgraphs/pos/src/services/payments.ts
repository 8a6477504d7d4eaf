import { z } from 'zod';
import { ConflictError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit, type TenantTx } from '@umi/db';
import type { Payment, Sale } from '@umi/db/tenant-models';
import { moveBatches, type StockActor } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { actorOf, auditOf, branchDate, requireBranch } from '../policy';
import type { PosContext } from '../context';
import { PosReason } from '../reasons';
import { recordEvent } from '@umi/events';
import { lockSale, paymentsWithPayouts } from './refunds';
import { lockSessionShared, ownOpenSession } from './tills';
import { planPayments, type PaymentMethod } from '@umi/supply';
import { enqueueFiscal } from '../fiscal/queue';
import { recordSaleCompleted, saleCompletedEventOf } from './checkout';

/** Returns every unit of a voided sale to the batch it came from: it never left the counter. */
async function restockVoided(tx: TenantTx, actor: StockActor, sale: Sale, today: string) {
  const items = await tx.saleItem.findMany({ where: { saleId: sale.id } });
  const perBatch = new Map<string, number>();
  for (const i of items) perBatch.set(i.batchId, (perBatch.get(i.batchId) ?? 0) + i.quantity);
  await moveBatches(tx, actor, {
    branchId: sale.branchId,
    today,
    moves: [...perBatch].map(([batchId, quantity]) => ({
      batchId,
      delta: quantity,
      type: 'REFUND' as const,
      reason: 'payment declined',
      reference: sale.saleNumber,
      referenceId: sale.id,
    })),
  });
}

/**
 * The open session money of the sale moves through now: the session it was booked to while that
 * is open (the customer is still at that till), otherwise the caller's own open session there.
 */
async function sessionNow(tx: TenantTx, ctx: PosContext, sale: Sale, bookedTo: string | null): Promise<string | null> {
  if (!bookedTo) return null;
  const session = await lockSessionShared(tx, bookedTo);
  if (session?.status === 'OPEN') return session.id;
  return (await ownOpenSession(tx, requireTenant(ctx).principal, sale.branchId, null, 'paymentId')).id;
}

const confirmSchema = z.object({
  paymentId: uuidSchema,
  approved: z.boolean(),
  providerReference: z.string().trim().min(1).max(100).nullish(),
  reason: z.string().trim().min(3, 'is required (at least 3 characters)').max(500),
});

/** Who answers a payment: an ADMIN by hand (confirmPayment), or the provider through the worker. */
export interface Answerer {
  actor: StockActor;
  /** The user paying back parts already taken when a sale is voided. */
  paidBy: string;
  /** The open session money moves through now, given the session it was booked to. */
  session(sale: Sale, bookedTo: string | null): Promise<string | null>;
}

/**
 * Applies the answer to a PENDING payment, under the sale's lock (taken by the caller). Approved:
 * the payment completes, booked to the session that receives it, and once every payment has, the
 * sale is COMPLETED and PAID and `sale.completed` is recorded. Declined: the sale is VOIDED, its
 * stock goes back to its batches, the other requests are withdrawn, and any part already taken
 * (the cash of a split payment) is paid back out of the drawer that holds it. Returns whether the
 * sale completed.
 */
export async function answerPayment(
  tx: TenantTx,
  who: Answerer,
  sale: Sale,
  current: Payment,
  answer: { approved: boolean; providerReference: string | null; today: string; tenantId: string; correlationId: string | null },
): Promise<{ completed: boolean }> {
  const now = new Date();
  const payments = await paymentsWithPayouts(tx, sale.id);
  if (answer.approved) {
    const receivedIn = await who.session(sale, current.tillSessionId);
    await tx.payment.update({
      where: { id: current.id },
      data: { status: 'COMPLETED', processedAt: now, tillSessionId: receivedIn, ...(answer.providerReference ? { providerReference: answer.providerReference } : {}) },
    });
    const paid = payments.every((x) => x.id === current.id || x.status === 'COMPLETED');
    await tx.sale.update({ where: { id_createdAt: { id: sale.id, createdAt: sale.createdAt } }, data: paid ? { paymentStatus: 'PAID', status: 'COMPLETED' } : { paymentStatus: 'PARTIALLY_PAID' } });
    if (paid) {
      // The completion path of a sale paid after checkout: the same event a sale paid at the
      // counter records in its own transaction, and its invoice queued for the VSDC in it too.
      await enqueueFiscal(tx, { kind: 'SALE', saleId: sale.id });
      const items = await tx.saleItem.findMany({ where: { saleId: sale.id } });
      await recordEvent(
        tx,
        saleCompletedEventOf(
          { id: sale.id, saleNumber: sale.saleNumber, branchId: sale.branchId, totalAmount: sale.totalAmount.toFixed(2), items },
          { tenantId: answer.tenantId, userId: who.actor.userId, correlationId: answer.correlationId },
        ),
      );
    }
    return { completed: paid };
  }
  const taken = payments.filter((x) => x.status === 'COMPLETED');
  const paidFrom = taken.length > 0 ? await who.session(sale, sale.tillSessionId ?? taken[0]!.till_session_id) : null;
  await restockVoided(tx, who.actor, sale, answer.today);
  await tx.payment.update({ where: { id: current.id }, data: { status: 'FAILED', ...(answer.providerReference ? { providerReference: answer.providerReference } : {}) } });
  // The other requests are withdrawn: never received, nothing to give back.
  await tx.payment.updateMany({ where: { saleId: sale.id, status: 'PENDING' }, data: { status: 'FAILED' } });
  if (taken.length > 0) {
    await tx.payout.createMany({
      data: taken.map((x) => ({ tillSessionId: paidFrom, saleId: sale.id, paymentId: x.id, method: x.method, amount: x.amount, paidBy: who.paidBy })),
    });
    await tx.payment.updateMany({ where: { id: { in: taken.map((x) => x.id) } }, data: { status: 'REFUNDED' } });
  }
  await tx.sale.update({ where: { id_createdAt: { id: sale.id, createdAt: sale.createdAt } }, data: { status: 'VOIDED', paymentStatus: taken.length > 0 ? 'REFUNDED' : 'PENDING' } });
  return { completed: false };
}

/**
 * Records the answer to a pending mobile-money request by hand: an ADMIN's override, with a reason,
 * audited, for when the provider's own answer cannot be had (the worker otherwise answers by
 * itself; see ./mobile-money). Answering twice is CONFLICT.
 */
export async function confirmPayment(ctx: PosContext, args: unknown): Promise<string> {
  const { db, principal, tenant } = requireTenant(ctx);
  const data = parseInput(confirmSchema, args, 'args');
  const payment = await db.payment.findUnique({ where: { id: data.paymentId }, select: { saleId: true } });
  // sales is partitioned by month (0010): no relation to join through, the sale is found by id.
  const paidSale = payment && (await db.sale.findFirst({ where: { id: payment.saleId }, select: { branchId: true } }));
  if (!payment || !paidSale) throw new NotFoundError('Payment', { field: 'paymentId' });
  const branch = await requireBranch(ctx, paidSale.branchId, 'sell', 'paymentId');
  return db.transaction(async (tx) => {
    // Sale, then session, then stock: the order refunds take too.
    const sale = await lockSale(tx, payment.saleId);
    const current = await tx.payment.findUniqueOrThrow({ where: { id: data.paymentId } });
    if (current.status !== 'PENDING') throw new ConflictError(`The payment is already ${current.status}`, { reason: PosReason.PAYMENT_ALREADY_ANSWERED });
    await answerPayment(
      tx,
      { actor: actorOf(ctx), paidBy: principal.userId, session: (s, bookedTo) => sessionNow(tx, ctx, s, bookedTo) },
      sale,
      current,
      { approved: data.approved, providerReference: data.providerReference ?? null, today: branchDate(branch), tenantId: tenant.id, correlationId: ctx.requestId },
    );
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: data.approved ? 'PAYMENT_APPROVED' : 'PAYMENT_DECLINED',
      entityType: 'Payment',
      entityId: current.id,
      branchId: sale.branchId,
      oldValues: { status: current.status },
      newValues: { status: data.approved ? 'COMPLETED' : 'FAILED', providerReference: data.providerReference ?? null, reason: data.reason },
    });
    return sale.id;
  });
}

const METHODS = ['CASH', 'CARD', 'MOBILE_MONEY', 'INSURANCE'] as const;
const money = z.string().trim().max(20);
const paySchema = z.object({
  saleId: uuidSchema,
  paymentMethod: z.enum(METHODS),
  payments: z
    .array(z.object({ method: z.enum(METHODS), amount: money, tendered: money.nullish(), reference: z.string().trim().max(100).nullish() }))
    .min(1)
    .max(10)
    .nullish(),
  tendered: money.nullish(),
});

/**
 * Takes the money for a sale recorded unpaid, a dispensing's (anyone who may sell at the branch).
 * The payments are booked to the session the sale belongs to while it is open, otherwise to the
 * caller's own open session there; the sale becomes PAID (and `sale.completed` is recorded) or,
 * for mobile money, waits for the payer. A sale that already has payments is CONFLICT
 * SALE_ALREADY_PAID; a voided one SALE_NOT_PAYABLE.
 */
export async function paySale(ctx: PosContext, input: unknown): Promise<string> {
  const { db } = requireTenant(ctx);
  const data = parseInput(paySchema, input);
  const found = await db.sale.findFirst({ where: { id: data.saleId }, select: { branchId: true } });
  if (!found) throw new NotFoundError('Sale', { field: 'input.saleId' });
  await requireBranch(ctx, found.branchId, 'sell', 'input.saleId');
  return db.transaction(async (tx) => {
    // Sale, then session: the order refunds and confirmPayment take.
    const sale = await lockSale(tx, data.saleId);
    if (sale.status !== 'COMPLETED') throw new ConflictError(`The sale is ${sale.status}`, { reason: PosReason.SALE_NOT_PAYABLE });
    const already = await tx.payment.count({ where: { saleId: sale.id } });
    if (already > 0 || sale.paymentStatus !== 'PENDING') throw new ConflictError('The sale has already been paid, or its payment is under way', { reason: PosReason.SALE_ALREADY_PAID });
    const sessionId = (await sessionNow(tx, ctx, sale, sale.tillSessionId)) ?? (await ownOpenSession(tx, requireTenant(ctx).principal, sale.branchId, null, 'input.saleId')).id;
    const plan = planPayments(
      sale.totalAmount.toFixed(2),
      data.paymentMethod as PaymentMethod,
      data.payments?.map((p) => ({ method: p.method, amount: p.amount, tendered: p.tendered ?? null, reference: p.reference ?? null })),
      data.tendered ?? null,
    );
    const now = new Date();
    await tx.payment.createMany({
      data: plan.payments.map((p) => ({
        saleId: sale.id,
        tillSessionId: sessionId,
        method: p.method,
        amount: p.amount,
        tendered: p.tendered,
        changeGiven: p.changeGiven,
        providerReference: p.providerReference,
        status: p.status,
        processedAt: p.status === 'COMPLETED' ? now : null,
      })),
    });
    await tx.sale.update({ where: { id_createdAt: { id: sale.id, createdAt: sale.createdAt } }, data: { paymentStatus: plan.paymentStatus, paymentMethod: data.paymentMethod } });
    if (plan.paymentStatus === 'PAID') {
      const items = await tx.saleItem.findMany({ where: { saleId: sale.id } });
      await recordSaleCompleted(tx, ctx, { ...sale, totalAmount: sale.totalAmount.toFixed(2), items });
    }
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'PAY',
      entityType: 'Sale',
      entityId: sale.id,
      branchId: sale.branchId,
      oldValues: { paymentStatus: sale.paymentStatus },
      newValues: { paymentStatus: plan.paymentStatus, tillSessionId: sessionId, payments: plan.payments.map((p) => ({ method: p.method, amount: p.amount })) },
    });
    return sale.id;
  });
}
