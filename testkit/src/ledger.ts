import type { Pool } from 'pg';

/**
 * Batches of a tenant schema whose quantity on hand differs from the sum of their stock movements:
 * the ledger invariant, which must hold after any scenario (so this returns []).
 */
export async function ledgerBreaks(pool: Pool, schema: string): Promise<{ id: string; on_hand: number; ledger: number }[]> {
  const { rows } = await pool.query(
    `SELECT b.id::text, b.quantity_on_hand AS on_hand, coalesce(sum(m.quantity), 0)::int AS ledger
     FROM "${schema}".inventory_batches b LEFT JOIN "${schema}".stock_movements m ON m.batch_id = b.id
     GROUP BY b.id HAVING b.quantity_on_hand <> coalesce(sum(m.quantity), 0)`,
  );
  return rows;
}
