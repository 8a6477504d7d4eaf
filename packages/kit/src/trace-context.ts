import { context, propagation, trace, type Span } from '@opentelemetry/api';

/**
 * What the request code needs of tracing, on @opentelemetry/api alone: the SDK itself
 * (`@umi/kit/tracing`) is loaded only by a process entry that starts it. Until then every helper
 * here returns at its first line, so a process without tracing pays a boolean test per call.
 */

/** The tenant of a request span (a `shared.tenants` id, from the verified token only). */
export const ATTR_TENANT_ID = 'umi.tenant_id';
/** The request's correlation id (`requestId` in its log lines, `correlationId` in its errors) on its request spans. */
export const ATTR_CORRELATION_ID = 'umi.correlation_id';
/** The GraphQL operation of a request span: a known operation's name, `other` or `anonymous`. */
export const ATTR_OPERATION_NAME = 'graphql.operation.name';
/** Apollo Gateway's older copy of the operation name on its own spans (bounded like the new one). */
const ATTR_OPERATION_NAME_DEPRECATED = 'operationName';
/**
 * The gateway tells each subgraph the bounded operation name in this header: a subgraph sees only
 * its fetch's generated name (`CreateSale__pos__0`), and accepts the header only beside the
 * gateway's internal token.
 */
export const OPERATION_HEADER = 'x-umi-operation';
const OPERATION_LABEL = /^[A-Za-z0-9_]{1,100}$/;

let started = false;
let boundOperation: ((name: string) => string) | null = null;
let flush: (() => Promise<void>) | null = null;

/** Called once by `startTracing`. */
export function markTracingStarted(): void {
  started = true;
}

/** Called by `startTracing`: how to export the spans still batched. */
export function setTracingFlush(fn: () => Promise<void>): void {
  flush = fn;
}

/** Exports the spans still batched (before a process exits); at most `timeoutMs`, never throws. */
export async function flushTracing(timeoutMs = 2000): Promise<void> {
  if (!flush) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([flush().catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}

/** Whether this process exports spans (the SDK was started). */
export function tracingStarted(): boolean {
  return started;
}

/**
 * The gateway's mapping of a client's operation name onto the known ones: applied to every span
 * that carries an operation name (Apollo Gateway's own spans copy the client's text verbatim).
 */
export function setOperationNameBound(bound: (name: string) => string): void {
  boundOperation = bound;
}

/** For the SDK's span processor: rewrites the operation name attributes a span starts with. */
export function boundSpanOperationName(span: { attributes: Record<string, unknown>; setAttribute(key: string, value: string): unknown }): void {
  if (!boundOperation) return;
  for (const key of [ATTR_OPERATION_NAME, ATTR_OPERATION_NAME_DEPRECATED]) {
    const value = span.attributes[key];
    if (typeof value === 'string') span.setAttribute(key, boundOperation(value));
  }
}

/** pino's mixin: the active span's ids beside the request's correlation id on every log line. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The active span at the start of a request (the HTTP server span), to label once its tenant and operation are known. */
export function requestSpan(): Span | null {
  return started ? (trace.getActiveSpan() ?? null) : null;
}

/** Labels a request span; the operation name must already be bounded (a known operation, `other`, `anonymous`). */
export function labelRequestSpan(span: Span | null, labels: { tenantId?: string | null; operation?: string | null; correlationId?: string }): void {
  if (!span) return;
  if (labels.correlationId) span.setAttribute(ATTR_CORRELATION_ID, labels.correlationId);
  if (labels.tenantId) span.setAttribute(ATTR_TENANT_ID, labels.tenantId);
  if (labels.operation && OPERATION_LABEL.test(labels.operation)) span.setAttribute(ATTR_OPERATION_NAME, labels.operation);
}

/** Writes the active trace context (W3C `traceparent`) into outgoing headers. */
export function injectTraceContext(headers: { set(name: string, value: string): void }): void {
  if (!started) return;
  propagation.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
}
