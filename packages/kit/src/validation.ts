import { z } from 'zod';
import { BadUserInputError, fromZodError } from './errors';

export const uuidSchema = z.string().uuid('must be a valid id');

/** Parses `value` with `schema`, or throws BAD_USER_INPUT naming the fields. */
export function parseInput<T extends z.ZodTypeAny>(schema: T, value: unknown, prefix = 'input'): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZodError(r.error, prefix);
  return r.data;
}

/** Relay page size: bounded so one request cannot read a whole table. */
export const pageSizeSchema = z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100');

/**
 * Opaque keyset cursor over the sort key of the last row (e.g. [name, id]); base64url of JSON so
 * clients cannot rely on its shape. Decoding checks the arity and element types.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, types: readonly ('string' | 'number')[], field = 'after'): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadUserInputError(`${field}: invalid cursor`);
  }
  if (!Array.isArray(key) || key.length !== types.length || key.some((v, i) => typeof v !== types[i])) {
    throw new BadUserInputError(`${field}: invalid cursor`);
  }
  return key as (string | number)[];
}
