import { sql, tables, type SqlRunner } from '@umi/db';

/**
 * Takes the next number of a named gapless sequence (e.g. `sale:LSK01`). The sequence row stays
 * locked until commit, so callers take it as late in their transaction as they can.
 */
export async function nextNumber(tx: { sql: SqlRunner }, name: string): Promise<number> {
  const row = await tx.sql.one<{ n: string }>(
    sql`INSERT INTO ${tables.number_sequences} (name, next_value) VALUES (${name}, 2)
        ON CONFLICT (name) DO UPDATE SET next_value = number_sequences.next_value + 1
        RETURNING (next_value - 1)::text AS n`,
  );
  return Number(row.n);
}
