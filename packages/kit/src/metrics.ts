import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Each process's Prometheus registry with the design document's technical and security metrics. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requestDuration: new Histogram({
      name: 'api_request_duration_seconds',
      help: 'GraphQL request duration',
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
        async collect() {
          this.set(await collect());
        },
      });
    },
    counter(name: string, help: string): Counter {
      return new Counter({ name, help, registers: [registry] });
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
