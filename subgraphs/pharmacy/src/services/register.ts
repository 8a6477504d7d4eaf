import { z } from 'zod';
import { addDays, BadUserInputError, decodeCursor, encodeCursor, parseInput, uuidSchema } from '@umi/kit';
import { sql, tables, type BranchRecord, type Sql, type TenantDb } from '@umi/db';
import { requireTenant } from '@umi/subgraph';
import { requireBranch } from '../policy';
import type { PharmacyContext } from '../context';

/**
 * The controlled-substance register as an inspector reads it: a branch's lines over whole local
 * days, by product, each product's lines in register order (the order their running balances
 * chain: time, then line number, both assigned under the product's lock). The contract's list
 * returns every line of the period; the export pages through them with a cursor and opens with
 * each product's balance brought forward.
 */

/** A register line with its movement's type and reason, its batch's number and its supplier's name. */
export interface RegisterRow {
  line_no: string;
  occurred_at: Date;
  quantity: number;
  balance_after: number;
  batch_number: string;
  movement_type: string;
  reason: string | null;
  reference: string | null;
  product_id: string;
  patient_id: string | null;
  prescription_id: string | null;
  pharmacist_id: string | null;
  witness_id: string | null;
  supplier_name: string | null;
  delivery_reference: string | null;
}

/** A product's balance at the branch at one edge of the period. */
export interface RegisterBalanceRow {
  product_id: string;
  balance: number;
}

/** One page of the export; the balances are read only when the client selects them. */
export interface RegisterExport {
  edges: { cursor: string; node: RegisterRow }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  broughtForward: () => Promise<RegisterBalanceRow[]>;
  carriedForward: () => Promise<RegisterBalanceRow[]>;
}

const periodSchema = z
  .object({ branchId: uuidSchema, from: z.string(), to: z.string(), productId: uuidSchema.nullish() })
  .refine((a) => a.from <= a.to, { message: 'must not be before from', path: ['to'] })
  .refine((a) => a.to <= addDays(a.from, 3660), { message: 'the period may span at most ten years', path: ['to'] });

const exportSchema = z.object({
  first: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
  after: z.string().max(500).nullish(),
});

/** Lines the list answers at most; past it the caller is told to page with the export instead. */
const LIST_LIMIT = 50_000;
const LIST_PAGE = 5_000;

/** The register's position after which a page starts: (product, time, line number). */
type Key = [productId: string, occurredAt: string, lineNo: string];

interface Period {
  db: TenantDb;
  branch: BranchRecord;
  productId: string | null;
  /** The period's bounds as instants: the branch's local midnights. */
  fromTs: Sql;
  toTs: Sql;
}

async function period(ctx: PharmacyContext, rawArgs: unknown): Promise<Period> {
  const { db } = requireTenant(ctx);
  const args = parseInput(periodSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'register');
  return {
    db,
    branch,
    productId: args.productId ?? null,
    fromTs: sql`(${args.from}::date::timestamp AT TIME ZONE ${branch.timezone}::text)`,
    toTs: sql`(${addDays(args.to, 1)}::date::timestamp AT TIME ZONE ${branch.timezone}::text)`,
  };
}

const keyOf = (r: RegisterRow): Key => [r.product_id, r.occurred_at.toISOString(), r.line_no];

/**
 * Up to `limit` lines of the period after `after`, in register order: a keyset scan of the
 * (branch, product, time, line) index, so every page costs the same however deep it is.
 */
function linesAfter(p: Period, after: Key | null, limit: number): Promise<RegisterRow[]> {
  const product = p.productId ? sql`AND r.product_id = ${p.productId}::uuid` : sql``;
  const cursor = after ? sql`AND (r.product_id, r.occurred_at, r.line_no) > (${after[0]}::uuid, ${after[1]}::timestamptz, ${after[2]}::bigint)` : sql``;
  return p.db.sql.query<RegisterRow>(
    sql`SELECT r.line_no::text, r.occurred_at, r.quantity, r.balance_after, b.batch_number, m.type AS movement_type, m.reason,
               coalesce(r.reference, sa.sale_number) AS reference,
               r.product_id::text, r.patient_id::text, r.prescription_id::text, r.pharmacist_id::text, r.witness_id::text,
               s.name AS supplier_name, r.delivery_reference
        FROM ${tables.controlled_register} r
        JOIN ${tables.stock_movements} m ON m.id = r.movement_id
        JOIN ${tables.inventory_batches} b ON b.id = r.batch_id
        LEFT JOIN ${tables.suppliers} s ON s.id = r.supplier_id
        -- A till sale's line is written before the sale has its number: the movement names the sale.
        LEFT JOIN ${tables.sales} sa ON r.reference IS NULL AND m.type = 'SALE' AND sa.id = m.reference_id
        WHERE r.branch_id = ${p.branch.id}::uuid AND r.occurred_at >= ${p.fromTs} AND r.occurred_at < ${p.toTs}
          ${product} ${cursor}
        ORDER BY r.product_id, r.occurred_at, r.line_no
        LIMIT ${limit}`,
  );
}

/**
 * Each product's balance at an edge of the period: the balance after its last line before the
 * edge, or else (its earlier lines purged past retention) before its first line inside the period.
 * Products with no line before the period's end are left out. Two index probes per product.
 */
function balancesAt(p: Period, edge: 'from' | 'to'): Promise<RegisterBalanceRow[]> {
  const at = edge === 'from' ? p.fromTs : p.toTs;
  const where = [sql`bal.balance IS NOT NULL`, ...(p.productId ? [sql`pr.id = ${p.productId}::uuid`] : [])];
  return p.db.sql.query<RegisterBalanceRow>(
    sql`SELECT pr.id::text AS product_id, bal.balance
        FROM ${tables.products} pr
        CROSS JOIN LATERAL (
          SELECT coalesce(
            (SELECT r.balance_after FROM ${tables.controlled_register} r
             WHERE r.branch_id = ${p.branch.id}::uuid AND r.product_id = pr.id AND r.occurred_at < ${at}
             ORDER BY r.occurred_at DESC, r.line_no DESC LIMIT 1),
            (SELECT r.balance_after - r.quantity FROM ${tables.controlled_register} r
             WHERE r.branch_id = ${p.branch.id}::uuid AND r.product_id = pr.id AND r.occurred_at >= ${p.fromTs} AND r.occurred_at < ${p.toTs}
             ORDER BY r.occurred_at, r.line_no LIMIT 1)
          ) AS balance
        ) bal
        WHERE ${sql.join(where, ' AND ')}
        ORDER BY pr.id`,
  );
}

/**
 * Every line of the branch's register over local days [from, to], by product, oldest first. Read
 * in pages; a period holding more than LIST_LIMIT lines is refused (BAD_USER_INPUT, reason
 * REGISTER_PERIOD_TOO_LARGE) rather than cut short: page through it with the export.
 */
export async function controlledRegister(ctx: PharmacyContext, rawArgs: unknown): Promise<RegisterRow[]> {
  const p = await period(ctx, rawArgs);
  const rows: RegisterRow[] = [];
  let after: Key | null = null;
  for (;;) {
    const page = await linesAfter(p, after, LIST_PAGE);
    rows.push(...page);
    if (rows.length > LIST_LIMIT) {
      throw new BadUserInputError(`The period holds more than ${LIST_LIMIT} register lines; page through it with controlledRegisterExport`, {
        reason: 'REGISTER_PERIOD_TOO_LARGE',
        limit: LIST_LIMIT,
      });
    }
    if (page.length < LIST_PAGE) return rows;
    after = keyOf(page[page.length - 1]!);
  }
}

/** One page of the period's register, with the balances brought and carried forward. */
export async function controlledRegisterExport(ctx: PharmacyContext, rawArgs: { first: number; after?: string | null } & Record<string, unknown>): Promise<RegisterExport> {
  const { first, after, ...rest } = rawArgs;
  const paging = parseInput(exportSchema, { first, after }, 'args');
  const p = await period(ctx, rest);
  let key: Key | null = null;
  if (paging.after) {
    const [productId, at, lineNo] = decodeCursor(paging.after, ['string', 'string', 'string']) as Key;
    if (!uuidSchema.safeParse(productId).success || Number.isNaN(Date.parse(at)) || !/^\d{1,19}$/.test(lineNo)) {
      throw new BadUserInputError('after: invalid cursor');
    }
    key = [productId, at, lineNo];
  }
  const rows = await linesAfter(p, key, paging.first + 1);
  const page = rows.slice(0, paging.first);
  const last = page[page.length - 1];
  return {
    edges: page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node })),
    pageInfo: { hasNextPage: rows.length > paging.first, endCursor: last ? encodeCursor(keyOf(last)) : null },
    broughtForward: () => balancesAt(p, 'from'),
    carriedForward: () => balancesAt(p, 'to'),
  };
}
