import type { ClientBase } from 'pg';
import { assertTenantSchema, quoteIdent } from './identifiers';

/**
 * Sales and their lines are partitioned by UTC month (tenant migration 0010): `sales_YYYY_MM` and
 * `sale_items_YYYY_MM`, plus a DEFAULT partition each that catches a sale whose month was not made
 * in time. These functions make the months ahead; the work is the schema's own
 * `ensure_sale_partitions` function, so the migration and the callers here share one definition.
 */

export type PartitionExecutor = Pick<ClientBase, 'query'>;

export interface SalePartitionReport {
  /** Partitions created by this call (`sales_2027_01`, `sale_items_2027_01`, ...). */
  created: string[];
  /**
   * Partitions that could not be created because DEFAULT already holds rows of their month. Those
   * rows stay correct and readable (only unpruned); moving them out is an operator's job.
   */
  inDefault: string[];
}

/** The first day (UTC) of the month of `d`, as YYYY-MM-DD. */
export function utcMonth(d: Date): string {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

function addUtcMonths(d: Date, n: number): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
}

/**
 * Makes sure the monthly partitions of sales and sale_items exist for the month of `now` and the
 * `monthsAhead` months after it (and, with `since`, every month from `since` on). Idempotent;
 * concurrent callers queue on an advisory lock of the schema and the later ones find the tables
 * made. Runs as one statement: pass a pool, or a client inside the caller's transaction. Needs the
 * schema's owner (the application role may not create tables). Creating a partition briefly takes
 * an exclusive lock on its parent, so months that exist cost nothing and missing ones are made
 * ahead of need: provisioning calls it, and the scheduled job should call it daily.
 */
export async function ensureSalePartitions(
  db: PartitionExecutor,
  schema: string,
  now: Date = new Date(),
  monthsAhead = 3,
  opts: { since?: Date } = {},
): Promise<SalePartitionReport> {
  assertTenantSchema(schema);
  if (!Number.isInteger(monthsAhead) || monthsAhead < 0 || monthsAhead > 36) throw new Error(`monthsAhead must be 0..36, got ${monthsAhead}`);
  const first = opts.since && opts.since < now ? opts.since : now;
  const { rows } = await db.query<{ partition_name: string; outcome: 'CREATED' | 'IN_DEFAULT' }>(
    `SELECT partition_name, outcome FROM ${quoteIdent(schema)}.ensure_sale_partitions($1, $2::date, $3::date)`,
    [schema, utcMonth(first), utcMonth(addUtcMonths(now, monthsAhead))],
  );
  return {
    created: rows.filter((r) => r.outcome === 'CREATED').map((r) => r.partition_name),
    inDefault: rows.filter((r) => r.outcome === 'IN_DEFAULT').map((r) => r.partition_name),
  };
}

/**
 * References to a sale or a sale line by id alone, which 0010 turned from foreign keys into
 * triggers (a partitioned table has no unique key on id alone). A restore loads rows with triggers
 * off, so it checks these as it checks the foreign keys.
 */
export const SALE_ID_REFERENCES: readonly { table: string; column: string; references: 'sales' | 'sale_items' }[] = [
  { table: 'payments', column: 'sale_id', references: 'sales' },
  { table: 'refunds', column: 'sale_id', references: 'sales' },
  { table: 'payouts', column: 'sale_id', references: 'sales' },
  { table: 'dispensed_items', column: 'sale_id', references: 'sales' },
  { table: 'fiscal_documents', column: 'sale_id', references: 'sales' },
  { table: 'payment_attempts', column: 'sale_id', references: 'sales' },
  { table: 'refund_items', column: 'sale_item_id', references: 'sale_items' },
];

/** Whether `schema`'s sales table is the partitioned one (0010 applied). */
export async function salesArePartitioned(db: PartitionExecutor, schema: string): Promise<boolean> {
  const { rows } = await db.query<{ p: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'sales' AND c.relkind = 'p') AS p`,
    [schema],
  );
  return rows[0]?.p ?? false;
}
