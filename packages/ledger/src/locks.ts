import { sql, tables, type SqlRunner } from '@umi/db';

/** Rows that money and register logic lock before they change them. */
const LOCKABLE = {
  sales: tables.sales,
  purchase_orders: tables.purchase_orders,
  prescriptions: tables.prescriptions,
  inventory_batches: tables.inventory_batches,
  till_sessions: tables.till_sessions,
} as const;
export type LockableTable = keyof typeof LOCKABLE;

/**
 * Locks one row (by id) for the rest of the caller's transaction; resolves to whether it exists.
 * Callers lock before they read the row's state, so two requests changing it queue.
 */
export async function lockRow(tx: { sql: SqlRunner }, table: LockableTable, id: string): Promise<boolean> {
  const rows = await tx.sql.query(sql`SELECT 1 FROM ${LOCKABLE[table]} WHERE id = ${id}::uuid FOR UPDATE`);
  return rows.length > 0;
}
