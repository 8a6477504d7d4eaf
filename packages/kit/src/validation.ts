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

export function decodeCursor(cursor: string, types: readonly ('string' | 'number' | 'uuid')[], field = 'after'): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadUserInputError(`${field}: invalid cursor`);
  }
  // A forged cursor reaches SQL as a comparison value: an id that is no UUID (or a string with a
  // NUL) would fail in PostgreSQL as an internal error instead of the caller's bad input.
  const fits = (v: unknown, t: 'string' | 'number' | 'uuid') =>
    t === 'uuid' ? uuidSchema.safeParse(v).success : t === 'string' ? typeof v === 'string' && !v.includes('\0') : typeof v === 'number' && Number.isFinite(v);
  if (!Array.isArray(key) || key.length !== types.length || key.some((v, i) => !fits(v, types[i]!))) {
    throw new BadUserInputError(`${field}: invalid cursor`);
  }
  return key as (string | number)[];
}

/**
 * `value` as a literal inside a LIKE pattern (Prisma's startsWith/contains build one): `%` and `_`
 * match themselves, not any text or any character. PostgreSQL's default escape is the backslash.
 */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A Relay connection of `rows` fetched with `first + 1` (the extra row only says there is more). */
export function toConnection<T>(rows: T[], first: number, cursor: (row: T) => string) {
  const page = rows.slice(0, first);
  const last = page[page.length - 1];
  return {
    edges: page.map((node) => ({ cursor: cursor(node), node })),
    pageInfo: { hasNextPage: rows.length > first, endCursor: last ? cursor(last) : null },
  };
}

/** Cursor of a newest-first list ordered by (createdAt, id). */
export const timeCursor = (row: { createdAt: Date; id: string }) => encodeCursor([row.createdAt.toISOString(), row.id]);

/**
 * The Prisma condition for the rows after a {@link timeCursor} in a newest-first list (an empty
 * condition without one); a malformed cursor is BAD_USER_INPUT.
 */
export function afterTimeCursor(after: string | null | undefined): { OR?: ({ createdAt: { lt: Date } } | { createdAt: Date; id: { lt: string } })[] } {
  if (!after) return {};
  const [iso, id] = decodeCursor(after, ['string', 'uuid']) as [string, string];
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) throw new BadUserInputError('after: invalid cursor');
  return { OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id } }] };
}
