import type { z } from 'zod';
import { assertTenantSchema, quoteIdent } from './identifiers';

/**
 * SQL that cannot name the wrong schema. A query is written once, without any schema:
 *
 *   sql`SELECT id FROM ${tables.sales} WHERE branch_id = ${branchId}::uuid`
 *
 * `tables.sales` is a token, not a name: it becomes `"tenant_x"."sales"` only when the request's
 * tenant scope runs the query, with the schema of the tenant the request resolved. Every other
 * interpolated value becomes a bound parameter ($1, $2, ...), never text. Services receive a
 * runner already bound to their tenant and no way to spell another schema or reach the pool.
 */

/** Every table of a tenant schema (a drift test checks this list against the migrations). */
export const TENANT_TABLES = [
  'audit_log_archive',
  'audit_logs',
  'compliance_events',
  'controlled_register',
  'dispensed_items',
  'fiscal_devices',
  'fiscal_documents',
  'fiscal_item_registrations',
  'fiscal_stock_sync',
  'idempotency_keys',
  'interaction_rules',
  'inventory_batches',
  'low_stock_state',
  'mobile_money_settings',
  'number_sequences',
  'outbox',
  'patients',
  'payment_attempts',
  'payments',
  'payouts',
  'prescription_items',
  'prescriptions',
  'product_branch_settings',
  'product_fiscal_codes',
  'products',
  'purchase_order_items',
  'purchase_orders',
  'refund_items',
  'refunds',
  'safety_alerts',
  'sale_items',
  'sales',
  'stock_movements',
  'stock_transfer_items',
  'stock_transfers',
  'suppliers',
  'tax_rates',
  'tenant_settings',
  'till_sessions',
  'tills',
] as const;
export type TenantTableName = (typeof TENANT_TABLES)[number];

/** Tables of the `shared` schema (platform data under row-level security). */
export const SHARED_TABLES = ['plans', 'tenants', 'branches', 'users', 'user_branches', 'subscriptions', 'system_settings', 'refresh_tokens', 'mobile_money_references', 'api_clients', 'expiry_warnings', 'database_servers'] as const;
export type SharedTableName = (typeof SHARED_TABLES)[number];

const TABLE = Symbol('table');
const FRAGMENT = Symbol('fragment');

/** A reference to a table, bound to a schema only when a scope renders the query. */
export interface TableRef {
  readonly [TABLE]: { kind: 'tenant'; name: TenantTableName } | { kind: 'shared'; name: SharedTableName };
}

/** Tokens for the tenant's tables: `${tables.sales}`. */
export const tables = Object.freeze(
  Object.fromEntries(TENANT_TABLES.map((name) => [name, Object.freeze({ [TABLE]: { kind: 'tenant', name } })])) as Record<TenantTableName, TableRef>,
);

/** Tokens for the shared schema's tables: `${sharedTables.tenants}`. */
export const sharedTables = Object.freeze(
  Object.fromEntries(SHARED_TABLES.map((name) => [name, Object.freeze({ [TABLE]: { kind: 'shared', name } })])) as Record<SharedTableName, TableRef>,
);

/** A value that may appear in a query: bound as a parameter, or a nested fragment or table token. */
export type SqlValue = string | number | boolean | bigint | Date | null | undefined | readonly unknown[] | Record<string, unknown> | Buffer | TableRef | Sql;

/** A query or part of one, with its parameters kept apart from its text. */
export interface Sql {
  readonly [FRAGMENT]: { strings: readonly string[]; values: readonly SqlValue[] };
}

function isTable(v: unknown): v is TableRef {
  return typeof v === 'object' && v !== null && TABLE in v;
}
function isSql(v: unknown): v is Sql {
  return typeof v === 'object' && v !== null && FRAGMENT in v;
}

/** Builds a query: interpolations are parameters, table tokens or nested fragments. */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): Sql {
  return Object.freeze({ [FRAGMENT]: { strings: [...strings], values } });
}

/** Fragments joined by `separator` (e.g. optional WHERE conditions joined by AND). */
sql.join = (parts: readonly Sql[], separator: string): Sql => {
  if (parts.length === 0) return sql``;
  const strings = ['', ...parts.slice(1).map(() => separator), ''];
  return Object.freeze({ [FRAGMENT]: { strings, values: parts } });
};

/** Trusted SQL text with no parameters (an ORDER BY chosen from a fixed list, never input). */
sql.raw = (text: string): Sql => Object.freeze({ [FRAGMENT]: { strings: [text], values: [] } });

/** Text and parameters of `query` with its table tokens bound to `schema` (null: tenant tables refused). */
export function render(query: Sql, schema: string | null): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const bound = schema === null ? null : quoteIdent(assertTenantSchema(schema));
  const walk = (q: Sql): string => {
    const { strings, values: vals } = q[FRAGMENT];
    let text = strings[0] ?? '';
    vals.forEach((v, i) => {
      if (isSql(v)) text += walk(v);
      else if (isTable(v)) {
        const t = v[TABLE];
        if (t.kind === 'shared') text += `"shared".${quoteIdent(t.name)}`;
        else if (bound === null) throw new Error(`tenant table ${t.name} used outside a tenant scope`);
        else text += `${bound}.${quoteIdent(t.name)}`;
      } else {
        values.push(v === undefined ? null : v);
        text += `$${values.length}`;
      }
      text += strings[i + 1] ?? '';
    });
    return text;
  };
  return { text: walk(query), values };
}

/** Which kinds of table `query` names: a statement may go to the tenant's server or the shared one, not both. */
export function tableKinds(query: Sql): { tenant: boolean; shared: boolean } {
  const kinds = { tenant: false, shared: false };
  const walk = (q: Sql): void => {
    for (const v of q[FRAGMENT].values) {
      if (isSql(v)) walk(v);
      else if (isTable(v)) kinds[v[TABLE].kind] = true;
    }
  };
  walk(query);
  return kinds;
}

/** Anything that runs text with positional parameters: a Prisma client or transaction. */
export interface RawExecutor {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** Runs tagged queries against one tenant's schema (and the shared schema). */
export interface SqlRunner {
  /** The rows of `query`; with `rows`, each row is checked (and converted) by the zod schema. */
  query<R>(query: Sql, rows?: z.ZodType<R>): Promise<R[]>;
  /** The single row of `query`, or null when there is none (more than one is a bug: it throws). */
  maybeOne<R>(query: Sql, rows?: z.ZodType<R>): Promise<R | null>;
  /** The single row of `query`; none is a bug (it throws). */
  one<R>(query: Sql, rows?: z.ZodType<R>): Promise<R>;
  /** Runs a statement; resolves to the number of rows it touched. */
  execute(query: Sql): Promise<number>;
}

/**
 * Prisma's raw queries return numeric as its Decimal and int8 as bigint, node-postgres returns
 * both as strings: rows are made the same whichever ran them (numeric and int8 as text), so a
 * query behaves alike in and out of a transaction. Cast to int or text in SQL to choose.
 */
function normalise(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return row;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
    if (typeof v === 'bigint') out[k] = v.toString();
    else if (v !== null && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v) && typeof (v as { toFixed?: unknown }).toFixed === 'function' && (v as object).constructor.name.startsWith('Decimal')) out[k] = String(v);
    else out[k] = v;
  }
  return out;
}

/** A runner over `executor` whose tenant tables are bound to `schema` (a validated schema name). */
export function bindSql(executor: RawExecutor, schema: string | null): SqlRunner {
  if (schema !== null) assertTenantSchema(schema);
  const query = async <R>(q: Sql, rows?: z.ZodType<R>): Promise<R[]> => {
    const { text, values } = render(q, schema);
    const result = (await executor.$queryRawUnsafe<unknown[]>(text, ...values)).map(normalise);
    return rows ? result.map((r) => rows.parse(r)) : (result as R[]);
  };
  return {
    query,
    async maybeOne<R>(q: Sql, rows?: z.ZodType<R>) {
      const result = await query(q, rows);
      if (result.length > 1) throw new Error(`expected at most one row, got ${result.length}`);
      return result[0] ?? null;
    },
    async one<R>(q: Sql, rows?: z.ZodType<R>) {
      const result = await query(q, rows);
      if (result.length !== 1) throw new Error(`expected one row, got ${result.length}`);
      return result[0]!;
    },
    async execute(q: Sql) {
      const { text, values } = render(q, schema);
      return executor.$executeRawUnsafe(text, ...values);
    },
  };
}

/** A node-postgres client or pool as a raw executor, for data-layer code that runs on `pg` directly. */
export function pgExecutor(client: { query(text: string, values: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }> }): RawExecutor {
  return {
    async $queryRawUnsafe<T>(text: string, ...values: unknown[]) {
      return (await client.query(text, values)).rows as T;
    },
    async $executeRawUnsafe(text: string, ...values: unknown[]) {
      return (await client.query(text, values)).rowCount ?? 0;
    },
  };
}
