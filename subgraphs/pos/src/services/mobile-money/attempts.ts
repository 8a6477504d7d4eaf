import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BadUserInputError } from '@umi/kit';
import { sql, tables, type TenantTx } from '@umi/db';
import type { Payment, PaymentAttempt, Sale } from '@umi/db/tenant-models';
import { PosReason } from '../../reasons';
import { normaliseMsisdn } from './providers';

/** Checkout's optional mobile-money fields: on the sale (a single payment) and on each split payment. */
export const mobileMoneySaleFields = {
  mobileMoneyProvider: z.enum(['MTN', 'AIRTEL']).nullish(),
  payerMsisdn: z.string().trim().max(20).nullish(),
};
export const mobileMoneyPaymentFields = {
  provider: z.enum(['MTN', 'AIRTEL']).nullish(),
  payerMsisdn: z.string().trim().max(20).nullish(),
};

interface CheckoutInput {
  paymentMethod: string;
  mobileMoneyProvider?: 'MTN' | 'AIRTEL' | null;
  payerMsisdn?: string | null;
  payments?: { method: string; provider?: 'MTN' | 'AIRTEL' | null; payerMsisdn?: string | null }[] | null;
}

/** One mobile-money payment to request from a provider: the index of the payment in the plan. */
interface Tender {
  index: number;
  provider: 'MTN' | 'AIRTEL';
  msisdn: string;
}

function tender(method: string, provider: string | null | undefined, msisdn: string | null | undefined, field: string, index: number): Tender | null {
  if (!provider && !msisdn) return null;
  if (method !== 'MOBILE_MONEY') throw new BadUserInputError(`${field}: a provider and payer number go with MOBILE_MONEY only`, { field });
  if (!provider || !msisdn) throw new BadUserInputError(`${field}: give both the provider and the payer's number`, { field });
  const normalised = normaliseMsisdn(msisdn);
  if (!normalised) throw new BadUserInputError(`${field}.payerMsisdn: not a Zambian mobile number (260 and 9 digits)`, { field: `${field}.payerMsisdn` });
  return { index, provider: provider as 'MTN' | 'AIRTEL', msisdn: normalised };
}

/** The payments of the checkout to request from a provider, validated before anything is written. */
export function mobileMoneyTenders(input: CheckoutInput): Tender[] {
  if (input.payments) {
    if (input.mobileMoneyProvider || input.payerMsisdn) {
      throw new BadUserInputError('input.payerMsisdn: with split payments, give the provider and payer on the mobile-money payment', { field: 'input.payerMsisdn' });
    }
    return input.payments.map((p, i) => tender(p.method, p.provider, p.payerMsisdn, `input.payments[${i}]`, i)).filter((t): t is Tender => t !== null);
  }
  const t = tender(input.paymentMethod, input.mobileMoneyProvider, input.payerMsisdn, 'input', 0);
  return t ? [t] : [];
}

/**
 * In the sale's transaction: a sale not yet paid is PENDING_PAYMENT, and each mobile-money payment
 * with a provider gets its attempt (our reference, INITIATED). Nothing is sent here: the worker
 * sends after the commit, so a rolled-back sale never asks anybody to pay.
 */
export async function recordMobileMoneyAttempts(
  tx: TenantTx,
  s: { sale: Sale; payments: Payment[]; tenders: Tender[]; windowSeconds: number },
): Promise<PaymentAttempt[]> {
  if (s.sale.paymentStatus === 'PAID') return [];
  s.sale.status = 'PENDING_PAYMENT';
  const attempts = s.tenders.map((t) => {
    const payment = s.payments[t.index];
    if (!payment || payment.method !== 'MOBILE_MONEY') throw new Error('mobile-money tender does not match its payment');
    payment.provider = t.provider;
    return { id: randomUUID(), paymentId: payment.id, provider: t.provider, msisdn: t.msisdn, amount: payment.amount.toFixed(2) };
  });
  if (attempts.length > 0) {
    const providers = [...new Set(attempts.map((a) => a.provider))];
    const configured = await tx.mobileMoneySetting.findMany({ where: { provider: { in: providers }, isEnabled: true }, select: { provider: true } });
    const missing = providers.filter((p) => !configured.some((c) => c.provider === p));
    if (missing.length > 0) {
      throw new BadUserInputError(`${missing.join(', ')} mobile money is not configured for this pharmacy`, { field: 'input', reason: PosReason.MOBILE_MONEY_NOT_CONFIGURED });
    }
  }
  const rows = await tx.sql.query<{ created_at: Date; expires_at: Date }>(
    sql`WITH sale AS (
          UPDATE ${tables.sales} SET status = 'PENDING_PAYMENT' WHERE id = ${s.sale.id}::uuid RETURNING 1
        ), pays AS (
          UPDATE ${tables.payments} p SET provider = a.provider
          FROM unnest(${attempts.map((a) => a.paymentId)}::uuid[], ${attempts.map((a) => a.provider)}::text[]) AS a(payment_id, provider)
          WHERE p.id = a.payment_id RETURNING 1
        )
        INSERT INTO ${tables.payment_attempts} (id, payment_id, sale_id, branch_id, provider, msisdn, amount, expires_at)
        SELECT a.id, a.payment_id, ${s.sale.id}::uuid, ${s.sale.branchId}::uuid, a.provider, a.msisdn, a.amount, now() + make_interval(secs => ${s.windowSeconds})
        FROM unnest(${attempts.map((a) => a.id)}::uuid[], ${attempts.map((a) => a.paymentId)}::uuid[], ${attempts.map((a) => a.provider)}::text[],
                    ${attempts.map((a) => a.msisdn)}::text[], ${attempts.map((a) => a.amount)}::numeric[]) AS a(id, payment_id, provider, msisdn, amount)
        RETURNING created_at, expires_at, (SELECT count(*) FROM sale) AS sales, (SELECT count(*) FROM pays) AS pays`,
  );
  return attempts.map((a, i) => ({
    id: a.id,
    paymentId: a.paymentId,
    saleId: s.sale.id,
    branchId: s.sale.branchId,
    provider: a.provider,
    msisdn: a.msisdn,
    amount: s.payments.find((p) => p.id === a.paymentId)!.amount,
    currency: 'ZMW',
    state: 'INITIATED',
    providerStatus: null,
    providerTransactionId: null,
    reason: null,
    checks: 0,
    callbacks: 0,
    sentAt: null,
    nextCheckAt: rows[i]!.created_at,
    lockedUntil: null,
    expiresAt: rows[i]!.expires_at,
    finalizedAt: null,
    createdAt: rows[i]!.created_at,
    updatedAt: rows[i]!.created_at,
  }));
}
