import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadTracingEnv } from './env';
import { boundSpanOperationName, labelRequestSpan, setOperationNameBound } from './trace-context';
import { serviceNameOf, tracedRequest } from './tracing-sdk';

const ROOT = join(__dirname, '..', '..', '..');

/** Runs `code` in a fresh `node --import tsx` (as processes start) and returns what it printed. */
function node(code: string, env: Record<string, string> = {}): string {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

describe('tracing', () => {
  it('names each process after its entry point', () => {
    expect(serviceNameOf('/app/subgraphs/pos/src/index.ts')).toBe('umi-pos');
    expect(serviceNameOf('/app/subgraphs/tenant/src/index.ts')).toBe('umi-tenant');
    expect(serviceNameOf('/app/gateway/src/index.ts')).toBe('umi-gateway');
    expect(serviceNameOf('/app/scripts/relay.ts')).toBe('umi-relay');
    expect(serviceNameOf('/app/scripts/fiscal-worker.ts')).toBe('umi-fiscal-worker');
    expect(serviceNameOf('/app/scripts/start.ts')).toBe('umi-platform');
  });

  it("keeps a callback's secret and any query string out of the traced path", () => {
    expect(tracedRequest('/callbacks/mtn/s3cr3t-value?x=1')).toEqual({ path: '/callbacks/:provider/:secret', route: '/callbacks/:provider/:secret' });
    expect(tracedRequest('/graphql?query=%7Bme%7D&variables=%7B%7D')).toEqual({ path: '/graphql', route: '/graphql' });
    expect(tracedRequest('/dashboard/app.js')).toEqual({ path: '/dashboard/app.js', route: null });
  });

  it('reads its settings with zod, and refuses a malformed endpoint or ratio', () => {
    expect(loadTracingEnv({})).toEqual({ TRACE_SAMPLE_RATIO: 1 });
    expect(loadTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318', TRACE_SAMPLE_RATIO: '0.1', JWT_SECRET: 'x' })).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
      TRACE_SAMPLE_RATIO: 0.1,
    });
    expect(() => loadTracingEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => loadTracingEnv({ TRACE_SAMPLE_RATIO: '2' })).toThrow(/TRACE_SAMPLE_RATIO/);
  });

  it('without an endpoint loads no SDK and patches nothing; with one it starts and patches pg', () => {
    const probe = `require('./packages/kit/src/tracing.ts');
      const pg = require('pg');
      const loaded = Object.keys(require.cache).some((k) => k.includes('sdk-trace-node'));
      const { tracingStarted } = require('./packages/kit/src/trace-context.ts');
      console.log(JSON.stringify({ loaded, started: tracingStarted(), patched: '__wrapped' in pg.Client.prototype.query }));`;
    expect(JSON.parse(node(probe))).toEqual({ loaded: false, started: false, patched: false });
    // Nothing listens there: spans would be dropped, and none is made here.
    expect(JSON.parse(node(probe, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }))).toEqual({ loaded: true, started: true, patched: true });
  }, 120_000);

  it("rewrites a span's operation name with the gateway's bound, and labels only with a bounded name", () => {
    const attributes: Record<string, unknown> = { 'graphql.operation.name': 'AnyClientText', operationName: 'AnyClientText' };
    const span = { attributes, setAttribute: (k: string, v: unknown) => ((attributes[k] = v), span) };
    setOperationNameBound((name) => (name === 'CreateSale' ? name : 'other'));
    boundSpanOperationName(span);
    expect(attributes).toEqual({ 'graphql.operation.name': 'other', operationName: 'other' });

    const set: Record<string, unknown> = {};
    const requestSpan = { setAttribute: (k: string, v: unknown) => ((set[k] = v), requestSpan) } as unknown as Parameters<typeof labelRequestSpan>[0];
    labelRequestSpan(requestSpan, { tenantId: 't-1', operation: 'not a name; DROP' });
    expect(set).toEqual({ 'umi.tenant_id': 't-1' });
    labelRequestSpan(requestSpan, { operation: 'CreateSale' });
    expect(set).toEqual({ 'umi.tenant_id': 't-1', 'graphql.operation.name': 'CreateSale' });
  });
});
