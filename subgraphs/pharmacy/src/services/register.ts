import { z } from 'zod';
import { addDays, parseInput, uuidSchema } from '@umi/kit';
import { sql, tables } from '@umi/db';
import { requireTenant } from '@umi/subgraph';
import { requireBranch } from '../policy';
import type { PharmacyContext } from '../context';

/** A register line with its movement's type and its batch's number. */
export interface RegisterRow {
  occurred_at: Date;
  quantity: number;
  balance_after: number;
  batch_number: string;
  movement_type: string;
  reference: string | null;
  product_id: string;
  patient_id: string | null;
  prescription_id: string | null;
  pharmacist_id: string | null;
}

const argsSchema = z
  .object({ branchId: uuidSchema, from: z.string(), to: z.string(), productId: uuidSchema.nullish() })
  .refine((a) => a.from <= a.to, { message: 'must not be before from', path: ['to'] })
  .refine((a) => a.to <= addDays(a.from, 3660), { message: 'the period may span at most ten years', path: ['to'] });

/**
 * The branch's controlled-substance register over whole local days [from, to], oldest first: the
 * inspector's view. Lines of one transaction (a fill spanning batches) are ordered by balance so
 * the running balance reads in sequence.
 */
export async function controlledRegister(ctx: PharmacyContext, rawArgs: unknown): Promise<RegisterRow[]> {
  const { db } = requireTenant(ctx);
  const args = parseInput(argsSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'register');
  const product = args.productId ? sql`AND r.product_id = ${args.productId}::uuid` : sql``;
  return db.sql.query<RegisterRow>(
    sql`SELECT r.occurred_at, r.quantity, r.balance_after, b.batch_number, m.type AS movement_type, r.reference,
               r.product_id::text, r.patient_id::text, r.prescription_id::text, r.pharmacist_id::text
        FROM ${tables.controlled_register} r
        JOIN ${tables.stock_movements} m ON m.id = r.movement_id
        JOIN ${tables.inventory_batches} b ON b.id = r.batch_id
        WHERE r.branch_id = ${branch.id}::uuid
          AND r.occurred_at >= (${args.from}::date::timestamp AT TIME ZONE ${branch.timezone}::text)
          AND r.occurred_at < (${addDays(args.to, 1)}::date::timestamp AT TIME ZONE ${branch.timezone}::text)
          ${product}
        ORDER BY r.product_id, r.occurred_at, (r.balance_after - r.quantity) DESC, r.id
        LIMIT 10000`,
  );
}
