import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { ZodError } from 'zod';

/** The stable codes clients may switch on. */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TOO_MANY_REQUESTS'
  | 'PLAN_LIMIT_EXCEEDED'
  | 'SERVICE_UNAVAILABLE'
  | 'OUTCOME_UNKNOWN'
  | 'TENANT_MOVING'
  | 'INTERNAL_SERVER_ERROR';

/** Base of every error the platform shows to clients on purpose. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
  }

  /**
   * The same error with an HTTP status, for errors that refuse a whole request at the gateway
   * (never from subgraphs: the gateway treats a non-2xx subgraph response as a transport failure).
   */
  withHttpStatus(status: number, headers: Record<string, string> = {}): this {
    // Apollo Server takes the status and headers (a Map) from `extensions.http` and drops the key.
    const entries = Object.entries(headers);
    (this.extensions as Record<string, unknown>).http = entries.length ? { status, headers: new Map(entries) } : { status };
    return this;
  }
}

export class BadUserInputError extends AppError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super('BAD_USER_INPUT', message, extensions);
  }
}
export class UnauthenticatedError extends AppError {
  constructor(message = 'Authentication required') {
    super('UNAUTHENTICATED', message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'Not allowed') {
    super('FORBIDDEN', message);
  }
}
export class NotFoundError extends AppError {
  constructor(entity: string, extensions: Record<string, unknown> = {}) {
    super('NOT_FOUND', `${entity} not found`, extensions);
  }
}
export class ConflictError extends AppError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super('CONFLICT', message, extensions);
  }
}
export class TooManyRequestsError extends AppError {
  constructor(retryAfterSeconds: number) {
    super('TOO_MANY_REQUESTS', `Too many requests; retry in ${retryAfterSeconds}s`, { retryAfter: retryAfterSeconds });
  }
}
/**
 * A dependency (a database connection, a process's capacity) failed or is away: nothing the
 * request asked for was refused, and the same request may be sent again after `retryAfter` seconds
 * (mutations with the same idempotency key).
 */
export class ServiceUnavailableError extends AppError {
  constructor(message = 'Service temporarily unavailable; retry', retryAfterSeconds = 1) {
    super('SERVICE_UNAVAILABLE', message, { retryable: true, retryAfter: retryAfterSeconds });
  }
}
/**
 * The tenant's data is being moved to another database server: its writes are paused for the
 * copy (seconds per gigabyte). Nothing of the request was written; send it again shortly.
 */
export class TenantMovingError extends AppError {
  constructor(retryAfterSeconds = 2) {
    super('TENANT_MOVING', "The tenant's data is being moved to another server; retry shortly", { retryable: true, retryAfter: retryAfterSeconds });
  }
}
export class PlanLimitError extends AppError {
  constructor(message: string, limit: number) {
    super('PLAN_LIMIT_EXCEEDED', message, { limit });
  }
}

/** A zod failure as BAD_USER_INPUT, with the path of each offending field. */
export function fromZodError(error: ZodError, prefix = 'input'): BadUserInputError {
  const fields = error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].join('.'), message: i.message }));
  const first = fields[0];
  return new BadUserInputError(first ? `${first.path}: ${first.message}` : 'Invalid input', { fields });
}

/**
 * A graphql-js message without its "Did you mean ...?" hint: suggestions name fields, types and
 * enum values of the schema that the caller did not ask for (and may not see).
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean [^]*$/, '');
}

/** Codes produced by graphql-js and Apollo Server themselves, safe to show as they are. */
const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

const KNOWN: ReadonlySet<string> = new Set<ErrorCode>([
  'BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'TOO_MANY_REQUESTS', 'PLAN_LIMIT_EXCEEDED',
  'SERVICE_UNAVAILABLE', 'OUTCOME_UNKNOWN', 'TENANT_MOVING',
]);

/**
 * Decides what a client sees of an error: errors with one of the platform's codes (ours, or a
 * subgraph's relayed by the gateway) and graphql-js's own parse and validation errors keep their
 * message; anything else (a thrown Error, which Apollo labels INTERNAL_SERVER_ERROR) becomes a
 * generic message, and `onInternal` receives the original for the log.
 */
export function maskError(
  formatted: GraphQLFormattedError,
  original: unknown,
  correlationId: string | undefined,
  onInternal: (err: unknown) => void,
): GraphQLFormattedError {
  const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
  if (code !== undefined && (KNOWN.has(code) || PASS_THROUGH.has(code))) {
    const { stacktrace: _drop, http: _http, serviceName: _svc, exception: _exc, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, message: withoutSuggestions(formatted.message), extensions: { ...extensions, ...(correlationId ? { correlationId } : {}) } };
  }
  onInternal(original instanceof GraphQLError ? original.originalError ?? original : original);
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(correlationId ? { correlationId } : {}) },
  };
}
