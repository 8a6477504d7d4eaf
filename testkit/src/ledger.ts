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

/**
 * Controlled-register lines whose running balance does not chain: in register order (time, then
 * line number) per branch and product, each line must start at the balance the previous one left
 * (a product's first line may start anywhere: earlier lines can be purged past retention), and
 * the last one must end at the batches' quantity on hand. Must be [] after any scenario.
 */
export async function registerBreaks(pool: Pool, schema: string): Promise<{ branch_id: string; product_id: string; line_no: string; problem: string }[]> {
  const { rows } = await pool.query(
    `WITH ordered AS (
       SELECT branch_id, product_id, line_no, quantity, balance_after,
              lag(balance_after) OVER w AS previous, lead(line_no) OVER w AS next_line
       FROM "${schema}".controlled_register
       WINDOW w AS (PARTITION BY branch_id, product_id ORDER BY occurred_at, line_no)
     ), held AS (
       SELECT branch_id, product_id, sum(quantity_on_hand)::int AS on_hand FROM "${schema}".inventory_batches GROUP BY branch_id, product_id
     )
     SELECT o.branch_id::text, o.product_id::text, o.line_no::text, 'does not start where the previous line ended' AS problem
     FROM ordered o WHERE o.previous IS NOT NULL AND o.balance_after - o.quantity <> o.previous
     UNION ALL
     SELECT o.branch_id::text, o.product_id::text, o.line_no::text, 'last balance differs from stock on hand'
     FROM ordered o JOIN held h USING (branch_id, product_id) WHERE o.next_line IS NULL AND o.balance_after <> h.on_hand`,
  );
  return rows;
}

/**
 * Sales that committed only in part: no item, or stock moved for them that differs from their
 * items (SALE movements referencing the sale against the items' quantities), or no payment for a
 * sale marked paid. One request is one transaction, so this must be [] whatever failed around it.
 */
export async function partialSales(pool: Pool, schema: string): Promise<{ id: string; items: number; moved: number; paid: boolean; status: string }[]> {
  const { rows } = await pool.query(
    `SELECT s.id::text, s.payment_status AS status,
            coalesce((SELECT sum(i.quantity) FROM "${schema}".sale_items i WHERE i.sale_id = s.id), 0)::int AS items,
            coalesce((SELECT -sum(m.quantity) FROM "${schema}".stock_movements m WHERE m.reference_id = s.id AND m.type = 'SALE'), 0)::int AS moved,
            EXISTS (SELECT 1 FROM "${schema}".payments p WHERE p.sale_id = s.id) AS paid
     FROM "${schema}".sales s`,
  );
  return rows.filter((r) => r.items === 0 || r.items !== r.moved || (r.status === 'PAID' && !r.paid));
}
