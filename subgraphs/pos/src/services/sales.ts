import Decimal from 'decimal.js';
import { z } from 'zod';
import { addDays, afterTimeCursor, canViewBranch, isTenantWide, pageSizeSchema, parseInput, timeCursor, toConnection, uuidSchema } from '@umi/kit';
import { sql, tables, type Sql } from '@umi/db';
import type { Sale } from '@umi/db/tenant-models';
import { ref, requireTenant } from '@umi/subgraph';
import { requireBranch } from '../policy';
import type { PosContext } from '../context';

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
  const { db } = requireTenant(ctx);
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
  for (const s of rows.slice(0, args.first)) ctx.loaders.saleById.prime(s.id, s);
  return toConnection(rows, args.first, timeCursor);
}

const reportSchema = z
  .object({ branchId: uuidSchema, from: z.string(), to: z.string() })
  .refine((a) => a.from <= a.to, { message: 'must not be before from', path: ['to'] })
  .refine((a) => a.to <= addDays(a.from, 366), { message: 'the period may span at most 366 days', path: ['to'] });

/**
 * The statements of `salesReport` for a branch over local days [from, to]. Every read of sales and
 * sale_items bounds its month column by the period, so only the period's monthly partitions are
 * scanned (sales are partitioned by created_at, lines by their sale's created_at: 0010).
 */
export function salesReportStatements(branch: { id: string; timezone: string }, from: string, to: string) {
  // Local midnight of `from` to local midnight after `to`, in the branch's zone.
  const within = (column: Sql) => sql`${column} >= (${from}::date::timestamp AT TIME ZONE ${branch.timezone}::text)
                    AND ${column} < (${addDays(to, 1)}::date::timestamp AT TIME ZONE ${branch.timezone}::text)`;
  const range = sql`s.branch_id = ${branch.id}::uuid AND ${within(sql`s.created_at`)}`;
  const refundRange = sql`r.branch_id = ${branch.id}::uuid AND ${within(sql`r.created_at`)}`;
  const sold = sql`s.status <> 'VOIDED' AND s.payment_status IN ('PAID', 'REFUNDED')`;
  const localDay = (column: Sql) => sql`(${column} AT TIME ZONE ${branch.timezone}::text)::date::text`;
  return {
    totals: sql`SELECT count(*)::int AS n, coalesce(sum(s.total_amount), 0)::text AS amount, coalesce(sum(s.tax_amount), 0)::text AS tax,
                 coalesce(sum(s.discount_amount), 0)::text AS discount,
                 count(*) FILTER (WHERE s.status IN ('PARTIALLY_REFUNDED', 'REFUNDED'))::int AS refunded_n,
                 coalesce((SELECT sum(r.amount) FROM ${tables.refunds} r JOIN ${tables.sales} s ON s.id = r.sale_id WHERE ${range} AND ${sold}), 0)::text AS refunded
          FROM ${tables.sales} s WHERE ${range} AND ${sold}`,
    refunds: sql`SELECT count(*)::int AS n, coalesce(sum(r.amount), 0)::text AS amount, coalesce(sum(r.tax_amount), 0)::text AS tax
          FROM ${tables.refunds} r WHERE ${refundRange}`,
    byDay: sql`SELECT date, coalesce(sum(n), 0)::int AS count, coalesce(sum(amount), 0)::text AS amount, coalesce(sum(refunds), 0)::text AS refunds
          FROM (SELECT ${localDay(sql`s.created_at`)} AS date, 1 AS n, s.total_amount AS amount, 0 AS refunds FROM ${tables.sales} s WHERE ${range} AND ${sold}
                UNION ALL
                SELECT ${localDay(sql`r.created_at`)}, 0, 0, r.amount FROM ${tables.refunds} r WHERE ${refundRange}) d
          GROUP BY date ORDER BY date`,
    // A line's month is its sale's: the same bound prunes sale_items.
    top: sql`SELECT i.product_id::text, sum(i.quantity)::int AS quantity, sum(i.line_total - i.discount_amount)::text AS amount
          FROM ${tables.sales} s JOIN ${tables.sale_items} i ON i.sale_id = s.id AND i.sale_created_at = s.created_at
          WHERE ${range} AND ${within(sql`i.sale_created_at`)} AND ${sold} GROUP BY i.product_id ORDER BY sum(i.line_total - i.discount_amount) DESC, i.product_id LIMIT 10`,
  };
}

/**
 * Totals of a branch over whole local days [from, to], with refunds as credit notes: the sales made
 * in the period (paid, not voided) stay in it whatever happens to them later, and the refunds made
 * in the period (of sales of any period) are its negative amounts and VAT. Per-day figures follow
 * the same rule; the ten best sellers are by value sold in the period.
 */
export async function salesReport(ctx: PosContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(reportSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'reports');
  const q = salesReportStatements(branch, args.from, args.to);
  const [totals, refunds, byDay, top] = await Promise.all([
    db.sql.one<{ n: number; amount: string; tax: string; discount: string; refunded_n: number; refunded: string }>(q.totals),
    db.sql.one<{ n: number; amount: string; tax: string }>(q.refunds),
    db.sql.query<{ date: string; count: number; amount: string; refunds: string }>(q.byDay),
    db.sql.query<{ product_id: string; quantity: number; amount: string }>(q.top),
  ]);
  // numeric sums arrive as text: to two decimals without passing through a float.
  const money = (v: string | Decimal) => new Decimal(v).toFixed(2);
  return {
    totalSales: totals.n,
    totalAmount: money(totals.amount),
    taxAmount: money(totals.tax),
    discountAmount: money(totals.discount),
    refundedSales: totals.refunded_n,
    refundedAmount: money(totals.refunded),
    refundsCount: refunds.n,
    refundsAmount: money(refunds.amount),
    refundsTaxAmount: money(refunds.tax),
    netAmount: money(new Decimal(totals.amount).minus(refunds.amount)),
    netTaxAmount: money(new Decimal(totals.tax).minus(refunds.tax)),
    byDay: byDay.map((d) => ({
      date: d.date,
      count: d.count,
      amount: money(d.amount),
      refundsAmount: money(d.refunds),
      netAmount: money(new Decimal(d.amount).minus(d.refunds)),
    })),
    topProducts: top.map((p) => ({ product: ref('Product', p.product_id), quantity: p.quantity, amount: money(p.amount) })),
  };
}

/** Patients' purchases at branches the caller may see, newest first, at most `first` each: two statements for any number of patients. */
export async function purchasesOf(ctx: PosContext, patientIds: readonly string[], first: number): Promise<Sale[][]> {
  const { db, principal: p } = requireTenant(ctx);
  const everyBranch = isTenantWide(p) || p.permissions.canViewAllBranches || p.permissions.canManageAllBranches;
  const rows = await db.sql.query<{ id: string }>(
    sql`SELECT id::text FROM (
          SELECT id, row_number() OVER (PARTITION BY patient_id ORDER BY created_at DESC, id DESC) AS n
          FROM ${tables.sales}
          WHERE patient_id = ANY(${patientIds}::uuid[]) AND (${everyBranch}::boolean OR branch_id = ANY(${p.branchIds}::uuid[]))) ranked
        WHERE n <= ${first}`,
  );
  const sales = await db.sale.findMany({ where: { id: { in: rows.map((r) => r.id) } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
  return patientIds.map((id) => sales.filter((s) => s.patientId === id && canViewBranch(p, s.branchId)));
}
