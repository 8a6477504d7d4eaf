import { z } from 'zod';
import { fromZodError } from '@umi/kit';

export const emailSchema = z.string().trim().toLowerCase().email().max(255);
/** Length over composition rules (NIST SP 800-63B); the upper bound caps hashing cost. */
export const passwordSchema = z.string().min(12, 'must be at least 12 characters').max(256);
export const nameSchema = z.string().trim().min(1).max(100);
export const uuidSchema = z.string().uuid('must be a valid id');

/** Parses `value` with `schema`, or throws BAD_USER_INPUT naming the fields. */
export function parseInput<T extends z.ZodTypeAny>(schema: T, value: unknown, prefix = 'input'): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZodError(r.error, prefix);
  return r.data;
}
