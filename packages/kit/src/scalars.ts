import { GraphQLScalarType, Kind } from 'graphql';
import { JSONResolver } from 'graphql-scalars';
import { BadUserInputError } from './errors';

const DECIMAL = /^-?\d{1,12}(\.\d{1,4})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDecimal(value: unknown): string {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new BadUserInputError('Decimal must be a string such as "12.50"');
  }
  return value;
}

/** Money and quantities with fractions travel as strings, never floats. */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'Decimal number encoded as a string, e.g. "12.50". Never a float.',
  serialize(value) {
    if (typeof value === 'string') return value;
    if (value && typeof (value as { toFixed?: unknown }).toFixed === 'function') return (value as { toFixed(n: number): string }).toFixed(2);
    throw new TypeError('Decimal cannot represent this value');
  },
  parseValue: parseDecimal,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new BadUserInputError('Decimal must be a string such as "12.50"');
    return parseDecimal(ast.value);
  },
});

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || !DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new BadUserInputError('Date must be YYYY-MM-DD');
  }
  const d = new Date(`${value}T00:00:00Z`);
  if (d.toISOString().slice(0, 10) !== value) throw new BadUserInputError('Date must be a real calendar date');
  return value;
}

/** Calendar dates as YYYY-MM-DD strings; no time zone is implied. */
export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  description: 'Calendar date, YYYY-MM-DD.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    if (typeof value === 'string') return value.slice(0, 10);
    throw new TypeError('Date cannot represent this value');
  },
  parseValue: parseDate,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new BadUserInputError('Date must be YYYY-MM-DD');
    return parseDate(ast.value);
  },
});

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw new BadUserInputError('DateTime must be ISO-8601 with a zone, e.g. 2026-01-31T08:00:00Z');
  }
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new BadUserInputError('DateTime is not a real instant');
  return d;
}

/** Instants, always with a zone; stored and served as UTC. */
export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'ISO-8601 timestamp with zone.',
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'string') return new Date(value).toISOString();
    throw new TypeError('DateTime cannot represent this value');
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new BadUserInputError('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

export const scalarResolvers = {
  Decimal: DecimalScalar,
  Date: DateScalar,
  DateTime: DateTimeScalar,
  JSON: JSONResolver,
};
