/**
 * The OpenTelemetry SDK of a process, loaded by `./tracing` only when tracing is configured: spans
 * go over OTLP/HTTP (JSON) to `<endpoint>/v1/traces` in batches, and W3C trace context
 * (`traceparent`) is read from incoming requests (and written by the gateway on its subgraph
 * fetches, `injectTraceContext`).
 */
import { IncomingMessage } from 'node:http';
import { basename, dirname, sep } from 'node:path';
import type { Context, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { boundSpanOperationName, markTracingStarted, setTracingFlush } from './trace-context';

/** Probes and scrapes are not requests anyone traces: they would be most of the spans. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** Routes that name a server span (`POST /graphql`); any other request's span is named by its method alone. */
const NAMED_ROUTES = new Set(['/graphql', '/oauth/token', '/schema.graphql']);

/**
 * A request's path and route as traced. A provider callback's path carries its secret, and a query
 * string may carry a GraphQL document and its variables (GET /graphql): neither leaves the process.
 */
export function tracedRequest(url: string | undefined): { path: string; route: string | null } {
  const path = (url ?? '/').split('?')[0] || '/';
  if (/^\/callbacks\/[^/]+\/[^/]+/.test(path)) return { path: '/callbacks/:provider/:secret', route: '/callbacks/:provider/:secret' };
  return { path, route: NAMED_ROUTES.has(path) ? path : null };
}

/**
 * The service name of the process from its entry point: `subgraphs/pos/src/index.ts` is umi-pos,
 * `gateway/src/index.ts` umi-gateway, `scripts/start.ts` (the whole federation) umi-platform,
 * any other script umi-<its name>. OTEL_SERVICE_NAME overrides it.
 */
export function serviceNameOf(entry: string | undefined): string {
  if (!entry) return 'umi';
  const parts = dirname(entry).split(sep);
  const subgraph = parts.lastIndexOf('subgraphs');
  if (subgraph >= 0 && parts[subgraph + 1]) return `umi-${parts[subgraph + 1]}`;
  if (parts.includes('gateway')) return 'umi-gateway';
  const name = basename(entry).replace(/\.[cm]?[jt]s$/, '');
  return name === 'start' ? 'umi-platform' : `umi-${name}`;
}

/** Rewrites a client's operation name on spans that start with one (Apollo Gateway's). */
const operationNameBound: SpanProcessor = {
  onStart: (span) => boundSpanOperationName(span as unknown as Parameters<typeof boundSpanOperationName>[0]),
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

/**
 * The gateway is the edge: a client's `traceparent` would let it pick trace ids (and, below a
 * sample ratio of 1, whether its requests are recorded). It starts its own traces and writes
 * trace context only towards the subgraphs; internal processes continue the caller's trace.
 */
class OutboundOnlyPropagator implements TextMapPropagator {
  private readonly w3c = new W3CTraceContextPropagator();
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.w3c.inject(context, carrier, setter);
  }
  extract(context: Context): Context {
    return context;
  }
  fields(): string[] {
    return this.w3c.fields();
  }
}

export interface TracingOptions {
  service: string;
  /** The public edge (the gateway): incoming trace context is ignored. */
  edge?: boolean;
  /** Where spans go; default the OTLP/HTTP exporter to `endpoint`. */
  exporter?: SpanExporter;
  endpoint?: string;
  sampleRatio?: number;
}

let provider: NodeTracerProvider | null = null;

/** Starts the SDK and the http, pg and ioredis instrumentations once per process. */
export function startTracing(options: TracingOptions): NodeTracerProvider {
  if (provider) return provider;
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: `${(options.endpoint ?? '').replace(/\/+$/, '')}/v1/traces` });
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    spanProcessors: [operationNameBound, new BatchSpanProcessor(exporter)],
  });
  // The AsyncLocalStorage context manager, and W3C trace context only (baggage is not used).
  provider.register({ propagator: options.edge ? new OutboundOnlyPropagator() : new W3CTraceContextPropagator() });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
        // Replaces what the instrumentation read from the URL (its hook's attributes win).
        startIncomingSpanHook: (req) => {
          const { path, route } = tracedRequest(req.url);
          return { 'url.path': path, 'url.query': undefined, ...(route ? { 'http.route': route } : {}) };
        },
        requestHook: (span, req) => {
          if (!(req instanceof IncomingMessage)) return;
          const { route } = tracedRequest(req.url);
          if (route) span.updateName(`${req.method ?? 'GET'} ${route}`);
        },
        // Outgoing node:http calls outside any request (none of ours) would each start a trace.
        requireParentforOutgoingSpans: true,
      }),
      // Background loops (the relay's and workers' polling, stream reads) would start a trace per
      // query or command: only work inside a traced request is recorded.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  const started = provider;
  setTracingFlush(() => started.forceFlush());
  markTracingStarted();
  return provider;
}

/** Ends tracing: the spans still batched are exported first. */
export async function shutdownTracing(): Promise<void> {
  const p = provider;
  provider = null;
  await p?.shutdown();
}

