import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMetricsServer, type Env, type SubgraphName } from '@umi/kit';
import { main as startGateway } from '@umi/gateway';
import { inventory } from '@umi/subgraph-inventory';
import { pharmacy } from '@umi/subgraph-pharmacy';
import { pos } from '@umi/subgraph-pos';
import { tenant as tenantSubgraph } from '@umi/subgraph-tenant';
import { startFiscalWorkerProcess } from './fiscal';
import { startRelayProcess } from './relay';

export interface RunningFederation {
  url: string;
  env: Env;
  /**
   * Where each process serves /metrics (its internal port), by service: gateway, tenant, pharmacy,
   * inventory, pos, relay, and fiscal when the fiscal worker runs here (FISCAL_WORKER).
   */
  metricsUrls: Record<'gateway' | 'tenant' | 'pharmacy' | 'inventory' | 'pos' | 'relay', string> & { fiscal?: string };
  /**
   * Stops or restarts one subgraph on its port (failure drills and tests of what clients see
   * while it is down); `stop` of a stopped one and `start` of a running one do nothing.
   */
  subgraph(name: SubgraphName): { stop(): Promise<void>; start(): Promise<void> };
  /** Publishes every committed outbox event now (tests that wait for events call it). */
  flushEvents(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs the four subgraphs, the gateway, the outbox relay and the fiscal worker in this process. With `ephemeralPorts` (tests) every
 * server takes a free port and the gateway is pointed at them through a supergraph whose routing
 * URLs are replaced; `supergraphSdl` defaults to the committed supergraph.graphql.
 */
export async function startFederation(env: Env, opts: { ephemeralPorts?: boolean; supergraphSdl?: string; gateway?: boolean } = {}): Promise<RunningFederation> {
  const portEnv = opts.ephemeralPorts
    ? { TENANT_PORT: 0, PHARMACY_PORT: 0, INVENTORY_PORT: 0, POS_PORT: 0, PORT: 0, METRICS_PORT: 0, TENANT_METRICS_PORT: 0, PHARMACY_METRICS_PORT: 0, INVENTORY_METRICS_PORT: 0, POS_METRICS_PORT: 0 }
    : {};
  const e: Env = { ...env, ...portEnv } as Env;
  const started: { close(): Promise<void> }[] = [];
  try {
    const ports: number[] = [];
    const metricsUrl = (port: number) => `http://${e.METRICS_HOST === '0.0.0.0' ? '127.0.0.1' : e.METRICS_HOST}:${port}/metrics`;
    const metricsUrls: Record<string, string> = {};
    const controls = new Map<SubgraphName, { stop(): Promise<void>; start(): Promise<void> }>();
    for (const subgraph of [tenantSubgraph, pharmacy, inventory, pos]) {
      const initial = await subgraph.main(e);
      let running: { port: number; close(): Promise<void> } | null = initial;
      const port = initial.port;
      ports.push(port);
      metricsUrls[subgraph.name] = metricsUrl(initial.metricsPort);
      const control = {
        async stop() {
          const r = running;
          running = null;
          await r?.close();
        },
        async start() {
          if (running) return;
          const portVar = `${subgraph.name.toUpperCase()}_PORT`;
          running = await subgraph.main({ ...e, [portVar]: port, [`${subgraph.name.toUpperCase()}_METRICS_PORT`]: 0 } as Env);
        },
      };
      controls.set(subgraph.name, control);
      started.push({ close: () => control.stop() });
    }
    const [tenantPort, pharmacyPort, inventoryPort, posPort] = ports;
    const routed: Env = {
      ...e,
      TENANT_URL: `http://127.0.0.1:${tenantPort}/graphql`,
      PHARMACY_URL: `http://127.0.0.1:${pharmacyPort}/graphql`,
      INVENTORY_URL: `http://127.0.0.1:${inventoryPort}/graphql`,
      POS_URL: `http://127.0.0.1:${posPort}/graphql`,
    };
    if (opts.supergraphSdl) {
      const file = join(mkdtempSync(join(tmpdir(), 'umi-supergraph-')), 'supergraph.graphql');
      writeFileSync(file, opts.supergraphSdl);
      routed.SUPERGRAPH_PATH = file;
    }
    // Without the gateway (npm start runs it as its own process) `url` is where it is expected.
    if (opts.gateway === false) {
      metricsUrls.gateway = metricsUrl(routed.METRICS_PORT);
    }
    const gateway = opts.gateway === false ? { port: routed.PORT } : await startGateway(routed);
    if ('close' in gateway) {
      started.push(gateway);
      metricsUrls.gateway = metricsUrl(gateway.metricsPort);
    }
    const relay = await startRelayProcess(routed);
    started.push(relay);
    // The relay and the fiscal worker keep registries of their own (as their own processes do,
    // on RELAY_PORT and FISCAL_PORT): served here too, so that nothing they measure goes unseen.
    const relayMetrics = await startMetricsServer(relay.metrics, opts.ephemeralPorts ? 0 : routed.RELAY_PORT, routed.METRICS_HOST);
    started.push(relayMetrics);
    metricsUrls.relay = metricsUrl(relayMetrics.port);
    if (routed.FISCAL_WORKER) {
      const fiscal = await startFiscalWorkerProcess(routed);
      started.push(fiscal);
      const fiscalMetrics = await startMetricsServer(fiscal.metrics, opts.ephemeralPorts ? 0 : routed.FISCAL_PORT, routed.METRICS_HOST);
      started.push(fiscalMetrics);
      metricsUrls.fiscal = metricsUrl(fiscalMetrics.port);
    }
    return {
      url: `http://127.0.0.1:${gateway.port}/graphql`,
      env: routed,
      metricsUrls: metricsUrls as RunningFederation['metricsUrls'],
      subgraph: (name) => controls.get(name)!,
      flushEvents: () => relay.relay.flush(),
      async close() {
        for (const s of started.reverse()) await s.close();
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.close().catch(() => {});
    throw err;
  }
}
