import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '@umi/kit';
import { sharedTables, sql } from '@umi/db';
import type { SubgraphRuntime } from '@umi/subgraph';

/**
 * `sales_completed_total`: sales paid in full (the moment `sale.completed` is recorded), counted
 * after their transaction committed. No tenant or branch label: tenants and branches are created
 * by users, so such labels would grow every scrape without bound; sales per tenant come from the
 * database's reports, the dashboard shows the platform's rate. One counter per registry, shared by
 * the resolvers and the mobile-money worker.
 */
export function salesCompleted(metrics: Metrics): Counter {
  const existing = metrics.registry.getSingleMetric('sales_completed_total');
  if (existing) return existing as Counter;
  return new Counter({ name: 'sales_completed_total', help: 'Sales paid in full (sale.completed recorded), after commit', registers: [metrics.registry] });
}

/**
 * The payment backlog: mobile-money requests to pay not final yet (no provider answer and not
 * expired), and the age of the oldest. Read at scrape time from the shared index of references
 * (one query, its partial index on open rows), so it is right whichever process sent them.
 */
export function paymentBacklog(runtime: SubgraphRuntime): void {
  let last: Promise<{ count: number; oldest: number }> | null = null;
  // One query per scrape for both gauges: the first collect starts it, the second reuses it.
  const read = () =>
    (last ??= runtime.data
      .shared({ kind: 'platform' }, null)
      .transaction((tx) =>
        tx.sql.one<{ n: string; oldest: string | null }>(
          sql`SELECT count(*)::text AS n, extract(epoch FROM now() - min(created_at))::text AS oldest
              FROM ${sharedTables.mobile_money_references} WHERE finalized_at IS NULL`,
        ),
      )
      .then((r) => ({ count: Number(r.n), oldest: r.oldest === null ? 0 : Math.max(0, Number(r.oldest)) }))
      .finally(() => setTimeout(() => (last = null), 1_000).unref()));
  const { registry } = runtime.metrics;
  new Gauge({
    name: 'payment_backlog',
    help: 'Mobile-money requests to pay not final yet (waiting for the payer or the provider), over every tenant',
    registers: [registry],
    async collect() {
      this.set(await read().then((r) => r.count, () => Number.NaN));
    },
  });
  new Gauge({
    name: 'payment_backlog_oldest_seconds',
    help: 'Age of the oldest mobile-money request to pay not final yet (0 when none)',
    registers: [registry],
    async collect() {
      this.set(await read().then((r) => r.oldest, () => Number.NaN));
    },
  });
}
