/**
 * OpenTelemetry tracing for a process: import this module first in a process entry
 * (`import '@umi/kit/tracing';`), before anything that loads `http`, `pg` or `ioredis`, so that
 * their instrumentations patch them as they are required.
 *
 * Without OTEL_EXPORTER_OTLP_ENDPOINT nothing is started or even loaded: no SDK, no patching, no
 * context manager; @opentelemetry/api stays a no-op and the request code's helpers
 * (`./trace-context`) return at once. (The entries of the gateway and the subgraphs are also
 * imported by tests and by `npm start`'s single process, which then pay nothing for it.)
 */
import { loadTracingEnv } from './env';
import type * as Sdk from './tracing-sdk';

const settings = loadTracingEnv();
if (settings.OTEL_EXPORTER_OTLP_ENDPOINT) {
  // Required here, not imported: loading the SDK is the cost a process without tracing skips.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./tracing-sdk') as typeof Sdk;
  const service = settings.OTEL_SERVICE_NAME ?? sdk.serviceNameOf(process.argv[1]);
  sdk.startTracing({
    service,
    // The gateway's own process; `npm start`'s single process also hosts the subgraphs, which must continue its traces.
    edge: sdk.serviceNameOf(process.argv[1]) === 'umi-gateway',
    endpoint: settings.OTEL_EXPORTER_OTLP_ENDPOINT,
    sampleRatio: settings.TRACE_SAMPLE_RATIO,
  });
}
