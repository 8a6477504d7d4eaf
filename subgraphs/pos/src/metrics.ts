import { Counter } from 'prom-client';
import type { Metrics } from '@umi/kit';

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
