import Decimal from 'decimal.js';
import { z } from 'zod';
import { ForbiddenError, isTenantWide, parseInput, uuidSchema } from '@umi/kit';
import { sql, tables } from '@umi/db';
import type { PaymentAttempt } from '@umi/db/tenant-models';
import { requireTenant } from '@umi/subgraph';
import { requireBranch } from '../../policy';
import type { PosContext } from '../../context';

export interface ProviderTotals {
  provider: 'MTN' | 'AIRTEL';
  attempts: number;
  providerSucceededCount: number;
  providerSucceededAmount: string;
  recordedCount: number;
  recordedAmount: string;
  difference: string;
  failedCount: number;
  expiredCount: number;
}

export interface ReconciliationData {
  date: string;
  openAttempts: PaymentAttempt[];
  providers: ProviderTotals[];
}

const argsSchema = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'), branchId: uuidSchema.nullish() });

/**
 * A day's mobile-money reconciliation: the attempts of that local day not final yet, and per
 * provider what it confirmed (attempts SUCCEEDED, from its status call) against what our sales
 * recorded as received (mobile-money payments of that provider COMPLETED, or REFUNDED since). They
 * differ when an ADMIN overrode an answer, or a provider confirmed after the window closed.
 */
export async function mobileMoneyReconciliation(ctx: PosContext, args: unknown): Promise<ReconciliationData> {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(argsSchema, args, 'args');
  let timezone = 'Africa/Lusaka';
  if (data.branchId) {
    timezone = (await requireBranch(ctx, data.branchId, 'reports', 'branchId')).timezone;
  } else if (!isTenantWide(principal)) {
    throw new ForbiddenError('Name a branch (branchId): the whole tenant is for ADMIN and OPERATIONS');
  }
  const branch = data.branchId ?? null;
  const day = sql`(a.created_at AT TIME ZONE ${timezone})::date = ${data.date}::date AND (${branch}::uuid IS NULL OR a.branch_id = ${branch}::uuid)`;
  const [open, totals] = await Promise.all([
    db.sql.query<{ id: string }>(sql`SELECT a.id::text FROM ${tables.payment_attempts} a WHERE ${day} AND a.finalized_at IS NULL ORDER BY a.created_at, a.id`),
    db.sql.query<{ provider: 'MTN' | 'AIRTEL'; attempts: number; ok_n: number; ok_amount: string; rec_n: number; rec_amount: string; failed_n: number; expired_n: number }>(
      sql`SELECT a.provider, count(*)::int AS attempts,
                 count(*) FILTER (WHERE a.state = 'SUCCEEDED')::int AS ok_n,
                 coalesce(sum(a.amount) FILTER (WHERE a.state = 'SUCCEEDED'), 0)::text AS ok_amount,
                 count(*) FILTER (WHERE p.status IN ('COMPLETED', 'REFUNDED'))::int AS rec_n,
                 coalesce(sum(p.amount) FILTER (WHERE p.status IN ('COMPLETED', 'REFUNDED')), 0)::text AS rec_amount,
                 count(*) FILTER (WHERE a.state = 'FAILED')::int AS failed_n,
                 count(*) FILTER (WHERE a.state = 'EXPIRED')::int AS expired_n
          FROM ${tables.payment_attempts} a JOIN ${tables.payments} p ON p.id = a.payment_id
          WHERE ${day} GROUP BY a.provider ORDER BY a.provider`,
    ),
  ]);
  const openAttempts = open.length ? await db.paymentAttempt.findMany({ where: { id: { in: open.map((o) => o.id) } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }) : [];
  return {
    date: data.date,
    openAttempts,
    providers: totals.map((t) => ({
      provider: t.provider,
      attempts: t.attempts,
      providerSucceededCount: t.ok_n,
      providerSucceededAmount: new Decimal(t.ok_amount).toFixed(2),
      recordedCount: t.rec_n,
      recordedAmount: new Decimal(t.rec_amount).toFixed(2),
      difference: new Decimal(t.rec_amount).minus(t.ok_amount).toFixed(2),
      failedCount: t.failed_n,
      expiredCount: t.expired_n,
    })),
  };
}
