import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Each process's Prometheus registry with the design document's technical and security metrics. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const scraping = new AsyncLocalStorage<true>();
  return {
    registry,
    /** The exposition text; what gauges read while it is made runs inside `scraping`. */
    text: () => scraping.run(true, () => registry.metrics()),
    /**
     * True inside a scrape: the statements gauges send then are the scrape's, not a request's, and
     * counters of request cost (database_queries_total) leave them out.
     */
    inScrape: () => scraping.getStore() === true,
    // The design document's name. `operation` is bounded by the caller (the gateway maps any name
    // outside the portals' operations to `other`), never a client's free text.
    requestDuration: new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'GraphQL request duration at the gateway, by operation (the known operations, other, anonymous) and status',
      labelNames: ['operation', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    authFailures: new Counter({ name: 'auth_failures_total', help: 'Authentication failures', labelNames: ['reason'] as const, registers: [registry] }),
    authDenials: new Counter({ name: 'auth_denials_total', help: 'Authorization denials', labelNames: ['code'] as const, registers: [registry] }),
    rateLimited: new Counter({ name: 'rate_limited_total', help: 'Requests refused by rate limits', labelNames: ['limit'] as const, registers: [registry] }),
    gauge(name: string, help: string, collect: () => number | Promise<number>): Gauge {
      return new Gauge({
        name,
        help,
        registers: [registry],
        // A value that cannot be read (the database away) shows as NaN: one failing gauge must not
        // turn the whole scrape into an error and hide every other metric.
        async collect() {
          this.set(await Promise.resolve().then(collect).catch(() => Number.NaN));
        },
      });
    },
    counter(name: string, help: string): Counter {
      return new Counter({ name, help, registers: [registry] });
    },
    /**
     * The connection pool's use, read at scrape time: open, idle and waiting clients. `waiting`
     * above 0 for long means the process's budget (DATABASE_POOL_MAX) is too small for its load.
     */
    pool(pool: { totalCount: number; idleCount: number; waitingCount: number }): void {
      const gauge = (name: string, help: string, read: () => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect() {
            this.set(read());
          },
        });
      gauge('db_pool_connections', 'Connections open in the PostgreSQL pool (busy and idle)', () => pool.totalCount);
      gauge('db_pool_connections_idle', 'Idle connections in the PostgreSQL pool', () => pool.idleCount);
      gauge('db_pool_waiting', 'Requests waiting for a PostgreSQL connection', () => pool.waitingCount);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** A running /metrics endpoint. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (and nothing else) on its own port, apart from the API, so that only the
 * operator's network reaches it and a slow scrape never queues behind API traffic or vice versa.
 */
export async function startMetricsServer(metrics: Metrics, port: number, host: string): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
