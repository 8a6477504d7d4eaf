import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';

/** Marks, inside the gateway only, whether a failed subgraph fetch carried the mutation itself. */
const FETCH_KIND = 'umiFetch';

/** Network errors that mean the request never reached the subgraph: nothing was applied. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // Node's (ECONNRESET, ...) and undici's (UND_ERR_SOCKET, ...) codes.
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
  }
  return undefined;
}

function httpStatus(err: unknown): number | undefined {
  const status = (err as { extensions?: { response?: { status?: unknown } } }).extensions?.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * What a client is told when a subgraph fetch fails in transport (refused, reset, timed out, or a
 * 5xx), or null when `err` is not such a failure. A query's fetch, or a mutation that provably
 * never reached the subgraph (connection refused, 503 before execution), is SERVICE_UNAVAILABLE:
 * nothing happened, retry. A mutation cut mid-flight may have committed: OUTCOME_UNKNOWN, retry
 * with the same idempotency key. Both carry `retryable: true`; neither is ever masked as internal.
 */
export function fetchFailure(query: string, err: unknown): GraphQLFormattedError | null {
  const status = httpStatus(err);
  const network = causeCode(err);
  // By name, not instanceof: fetch's errors may come from another realm.
  const name = (err as { name?: unknown } | null)?.name;
  const fetchFailed = name === 'TypeError' && /fetch failed/i.test(String((err as { message?: unknown }).message));
  const isTransport = network !== undefined || fetchFailed || name === 'AbortError' || name === 'TimeoutError' || (status !== undefined && status >= 500);
  if (!isTransport) return null;
  const mutation = /^\s*mutation\b/.test(query);
  const notSent = (network !== undefined && NOT_SENT.has(network)) || status === 503;
  if (mutation && !notSent) {
    return {
      message: 'The outcome of this change is unknown: a service stopped answering while it ran. Retry with the same idempotency key.',
      extensions: { code: 'OUTCOME_UNKNOWN', retryable: true, [FETCH_KIND]: 'mutation' },
    };
  }
  return {
    message: 'A service this request needs is unavailable; retry shortly.',
    extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true, [FETCH_KIND]: mutation ? 'mutation' : 'lookup' },
  };
}

/**
 * A mutation whose own fetch succeeded (it committed) but whose answer needed a lookup in a
 * subgraph that failed, with the failure nulling the mutation's field: the client has no id to
 * show, so it is told the outcome is unknown and to retry with the same idempotency key (which
 * answers the committed result). A lookup that failed on a nullable field leaves the rest of the
 * answer and errs on that field alone (SERVICE_UNAVAILABLE).
 */
export function ambiguousOutcomes<T extends object>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const errors = result.errors;
          if (!errors?.length) return;
          const data = result.data as Record<string, unknown> | null | undefined;
          const lostRoots = new Set(
            (operation?.selectionSet.selections ?? [])
              .map((s) => (s.kind === 'Field' ? (s.alias?.value ?? s.name.value) : null))
              .filter((k): k is string => k !== null && (data === null || data === undefined || data[k] === null)),
          );
          for (const e of errors) {
            const ext = e.extensions as Record<string, unknown> | undefined;
            if (!ext || !(FETCH_KIND in ext)) continue;
            const kind = ext[FETCH_KIND];
            delete ext[FETCH_KIND];
            const root = typeof e.path?.[0] === 'string' ? e.path[0] : null;
            if (operation?.operation === 'mutation' && kind === 'lookup' && (root === null ? lostRoots.size > 0 : lostRoots.has(root))) {
              ext.code = 'OUTCOME_UNKNOWN';
              (e as { message: string }).message =
                'The change was made but its answer could not be completed: a service is unavailable. Retry with the same idempotency key to get it.';
            }
          }
        },
      };
    },
  };
}
