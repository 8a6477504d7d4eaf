import Decimal from 'decimal.js';
import { z } from 'zod';
import { addDays, afterTimeCursor, canViewBranch, isTenantWide, pageSizeSchema, parseInput, timeCursor, toConnection, uuidSchema } from '@umi/kit';
import { sql, tables } from '@umi/db';
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
 * Totals of a branch over whole local days [from, to]: paid sales that stand (not refunded or
 * voided), refunds of sales made in the period, per-day figures and the ten best sellers by value.
 */
export async function salesReport(ctx: PosContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(reportSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'reports');
  // Local midnight of `from` to local midnight after `to`, in the branch's zone.
  const range = sql`s.branch_id = ${branch.id}::uuid AND s.created_at >= (${args.from}::date::timestamp AT TIME ZONE ${branch.timezone}::text)
                    AND s.created_at < (${addDays(args.to, 1)}::date::timestamp AT TIME ZONE ${branch.timezone}::text)`;
  const standing = sql`s.status = 'COMPLETED' AND s.payment_status = 'PAID'`;
  const [totals, byDay, top] = await Promise.all([
    db.sql.one<{ n: number; amount: string; tax: string; discount: string; refunded_n: number; refunded: string }>(
      sql`SELECT count(*) FILTER (WHERE ${standing})::int AS n,
                 coalesce(sum(total_amount) FILTER (WHERE ${standing}), 0)::text AS amount,
                 coalesce(sum(tax_amount) FILTER (WHERE ${standing}), 0)::text AS tax,
                 coalesce(sum(discount_amount) FILTER (WHERE ${standing}), 0)::text AS discount,
                 count(*) FILTER (WHERE s.status = 'REFUNDED')::int AS refunded_n,
                 coalesce(sum(total_amount) FILTER (WHERE s.status = 'REFUNDED'), 0)::text AS refunded
          FROM ${tables.sales} s WHERE ${range}`,
    ),
    db.sql.query<{ date: string; count: number; amount: string }>(
      sql`SELECT (s.created_at AT TIME ZONE ${branch.timezone}::text)::date::text AS date, count(*)::int AS count, sum(total_amount)::text AS amount
          FROM ${tables.sales} s WHERE ${range} AND ${standing} GROUP BY 1 ORDER BY 1`,
    ),
    db.sql.query<{ product_id: string; quantity: number; amount: string }>(
      sql`SELECT i.product_id::text, sum(i.quantity)::int AS quantity, sum(i.line_total - i.discount_amount)::text AS amount
          FROM ${tables.sales} s JOIN ${tables.sale_items} i ON i.sale_id = s.id
          WHERE ${range} AND ${standing} GROUP BY i.product_id ORDER BY sum(i.line_total - i.discount_amount) DESC, i.product_id LIMIT 10`,
    ),
  ]);
  // numeric sums arrive as text: to two decimals without passing through a float.
  const money = (v: string) => new Decimal(v).toFixed(2);
  const r = totals;
  return {
    totalSales: r.n,
    totalAmount: money(r.amount),
    taxAmount: money(r.tax),
    discountAmount: money(r.discount),
    refundedSales: r.refunded_n,
    refundedAmount: money(r.refunded),
    byDay: byDay.map((d) => ({ date: d.date, count: d.count, amount: money(d.amount) })),
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
