import Decimal from 'decimal.js';
import { z } from 'zod';
import { addDays, afterTimeCursor, canViewBranch, isTenantWide, pageSizeSchema, parseInput, timeCursor, toConnection, uuidSchema } from '@umi/kit';
import { tenantTable } from '@umi/db';
import type { Sale } from '@umi/db/src/generated/tenant/client';
import { requireBranch } from '../access';
import { tenantScope, type PosContext } from '../context';

const listSchema = z
  .object({
    branchId: uuidSchema,
    from: z.date().nullish(),
    to: z.date().nullish(),
    first: pageSizeSchema,
    after: z.string().max(500).nullish(),
  })
  .refine((a) => !a.from || !a.to || a.from < a.to, { message: 'must be after from', path: ['to'] });

/** A branch's sales, newest first, keyset-paginated on (createdAt, id). */
export async function listSales(ctx: PosContext, rawArgs: unknown) {
  const { db } = tenantScope(ctx);
  const args = parseInput(listSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'view');
  const rows = await db.sale.findMany({
    where: {
      branchId: branch.id,
      createdAt: { ...(args.from ? { gte: args.from } : {}), ...(args.to ? { lt: args.to } : {}) },
      ...afterTimeCursor(args.after),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: args.first + 1,
  });
  for (const s of rows.slice(0, args.first)) tenantScope(ctx).loaders.saleById.prime(s.id, s);
  return toConnection(rows, args.first, timeCursor);
}

const reportSchema = z
  .object({ branchId: uuidSchema, from: z.string(), to: z.string() })
  .refine((a) => a.from <= a.to, { message: 'must not be before from', path: ['to'] })
  .refine((a) => a.to <= addDays(a.from, 366), { message: 'the period may span at most 366 days', path: ['to'] });

/**
 * Totals of a branch over whole local days [from, to]: paid sales that stand (not refunded or
 * voided), refunds of sales made in the period, per-day figures and the ten best sellers by value.
 */
export async function salesReport(ctx: PosContext, rawArgs: unknown) {
  const { tenant } = tenantScope(ctx);
  const args = parseInput(reportSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'reports');
  const t = (name: string) => tenantTable(tenant.schemaName, name);
  // Local midnight of `from` to local midnight after `to`, in the branch's zone.
  const params = [branch.id, args.from, addDays(args.to, 1), branch.timezone];
  const range = `s.branch_id = $1::uuid AND s.created_at >= ($2::date::timestamp AT TIME ZONE $4) AND s.created_at < ($3::date::timestamp AT TIME ZONE $4)`;
  const standing = `s.status = 'COMPLETED' AND s.payment_status = 'PAID'`;
  const pool = ctx.deps.appPool;
  const [totals, byDay, top] = await Promise.all([
    pool.query<{ n: number; amount: string; tax: string; discount: string; refunded_n: number; refunded: string }>(
      `SELECT count(*) FILTER (WHERE ${standing})::int AS n,
              coalesce(sum(total_amount) FILTER (WHERE ${standing}), 0)::text AS amount,
              coalesce(sum(tax_amount) FILTER (WHERE ${standing}), 0)::text AS tax,
              coalesce(sum(discount_amount) FILTER (WHERE ${standing}), 0)::text AS discount,
              count(*) FILTER (WHERE s.status = 'REFUNDED')::int AS refunded_n,
              coalesce(sum(total_amount) FILTER (WHERE s.status = 'REFUNDED'), 0)::text AS refunded
       FROM ${t('sales')} s WHERE ${range}`,
      params,
    ),
    pool.query<{ date: string; count: number; amount: string }>(
      `SELECT (s.created_at AT TIME ZONE $4)::date::text AS date, count(*)::int AS count, sum(total_amount)::text AS amount
       FROM ${t('sales')} s WHERE ${range} AND ${standing} GROUP BY 1 ORDER BY 1`,
      params,
    ),
    pool.query<{ product_id: string; quantity: number; amount: string }>(
      `SELECT i.product_id::text, sum(i.quantity)::int AS quantity, sum(i.line_total - i.discount_amount)::text AS amount
       FROM ${t('sales')} s JOIN ${t('sale_items')} i ON i.sale_id = s.id
       WHERE ${range} AND ${standing} GROUP BY i.product_id ORDER BY sum(i.line_total - i.discount_amount) DESC, i.product_id LIMIT 10`,
      params,
    ),
  ]);
  // numeric sums arrive as text: to two decimals without passing through a float.
  const money = (v: string) => new Decimal(v).toFixed(2);
  const r = totals.rows[0]!;
  return {
    totalSales: r.n,
    totalAmount: money(r.amount),
    taxAmount: money(r.tax),
    discountAmount: money(r.discount),
    refundedSales: r.refunded_n,
    refundedAmount: money(r.refunded),
    byDay: byDay.rows.map((d) => ({ date: d.date, count: d.count, amount: money(d.amount) })),
    topProducts: top.rows.map((p) => ({ product: { __typename: 'Product', id: p.product_id }, quantity: p.quantity, amount: money(p.amount) })),
  };
}

/** Patients' purchases at branches the caller may see, newest first, at most `first` each: two statements for any number of patients. */
export async function purchasesOf(ctx: PosContext, patientIds: readonly string[], first: number): Promise<Sale[][]> {
  const { db, tenant } = tenantScope(ctx);
  const p = ctx.principal!;
  const everyBranch = isTenantWide(p) || p.permissions.canViewAllBranches || p.permissions.canManageAllBranches;
  const { rows } = await ctx.deps.appPool.query<{ id: string }>(
    `SELECT id::text FROM (
       SELECT id, row_number() OVER (PARTITION BY patient_id ORDER BY created_at DESC, id DESC) AS n
       FROM ${tenantTable(tenant.schemaName, 'sales')}
       WHERE patient_id = ANY($1::uuid[]) AND ($2::boolean OR branch_id = ANY($3::uuid[]))) ranked
     WHERE n <= $4`,
    [patientIds, everyBranch, p.branchIds, first],
  );
  const sales = await db.sale.findMany({ where: { id: { in: rows.map((r) => r.id) } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  return patientIds.map((id) => sales.filter((s) => s.patientId === id && canViewBranch(p, s.branchId)));
}
