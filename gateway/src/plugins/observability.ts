import type { ApolloServerPlugin } from '@apollo/server';
import { labelRequestSpan, maskError, requestSpan, setOperationNameBound, type Metrics } from '@umi/kit';
import { operationNames } from '@umi/clients';
import type { GatewayContext } from '../context';
import { PAYLOAD_OPERATION } from '../subscriptions/plan';

/**
 * The values the `operation` label may take: the portals' operations, the gateway's own payload
 * fetch, `anonymous` and `other`. A client names its operation freely; a label per name would let
 * anyone grow the registry (and every scrape) without bound.
 */
const KNOWN_OPERATIONS: ReadonlySet<string> = new Set([...operationNames(), PAYLOAD_OPERATION]);

/** The metric label of an operation name: itself when known, else `other` (unnamed: `anonymous`). */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  return KNOWN_OPERATIONS.has(name) ? name : 'other';
}

/**
 * Request duration metrics, one log line per request, the correlation id on every error, and
 * the original of every masked error logged with it.
 */
export function observability(metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  // Apollo Gateway's own spans copy the client's operation name: traces get the metric's label too.
  setOperationNameBound(operationLabel);
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      // The HTTP server span of the request (null without tracing): labelled once the operation is known.
      const span = requestSpan();
      labelRequestSpan(span, { tenantId: contextValue.principal?.tenantId, correlationId: contextValue.requestId });
      return {
        async didResolveOperation({ operationName }) {
          const operation = operationLabel(operationName);
          contextValue.operation = operation;
          labelRequestSpan(span, { operation });
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            maskError({ message: error.message, extensions: error.extensions }, error, undefined, (cause) =>
              contextValue.logger.error({ err: cause }, 'internal error'),
            );
          }
        },
        async willSendResponse({ response, operationName, errors }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const status = errors?.length ? 'error' : 'ok';
          metrics.requestDuration.observe({ operation: operationLabel(operationName), status }, seconds);
          if (response.body.kind === 'single') {
            for (const e of response.body.singleResult.errors ?? []) {
              (e.extensions as Record<string, unknown> | undefined) ??= {};
              (e as { extensions: Record<string, unknown> }).extensions.correlationId = contextValue.requestId;
            }
          }
          contextValue.logger.info({ operation: operationName?.slice(0, 100), durationMs: Math.round(seconds * 1000), status }, 'request completed');
        },
      };
    },
  };
}
