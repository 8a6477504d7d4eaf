import type { ApolloServerPlugin } from '@apollo/server';
import { maskError, type Metrics } from '@umi/kit';
import type { GatewayContext } from '../context';

/**
 * Request duration metrics, one log line per request, the correlation id on every error, and
 * the original of every masked error logged with it.
 */
export function observability(metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
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
          metrics.requestDuration.observe({ operation: operationName ?? 'anonymous', status }, seconds);
          if (response.body.kind === 'single') {
            for (const e of response.body.singleResult.errors ?? []) {
              (e.extensions as Record<string, unknown> | undefined) ??= {};
              (e as { extensions: Record<string, unknown> }).extensions.correlationId = contextValue.requestId;
            }
          }
          contextValue.logger.info({ operation: operationName, durationMs: Math.round(seconds * 1000), status }, 'request completed');
        },
      };
    },
  };
}
