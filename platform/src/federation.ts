import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '@umi/kit';
import { main as startGateway } from '@umi/gateway';
import { inventory } from '@umi/subgraph-inventory';
import { pharmacy } from '@umi/subgraph-pharmacy';
import { pos } from '@umi/subgraph-pos';
import { tenant as tenantSubgraph } from '@umi/subgraph-tenant';
import { startRelayProcess } from './relay';

export interface RunningFederation {
  url: string;
  env: Env;
  /** Publishes every committed outbox event now (tests that wait for events call it). */
  flushEvents(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs the four subgraphs and the gateway in this process. With `ephemeralPorts` (tests) every
 * server takes a free port and the gateway is pointed at them through a supergraph whose routing
 * URLs are replaced; `supergraphSdl` defaults to the committed supergraph.graphql.
 */
export async function startFederation(env: Env, opts: { ephemeralPorts?: boolean; supergraphSdl?: string; gateway?: boolean } = {}): Promise<RunningFederation> {
  const portEnv = opts.ephemeralPorts ? { TENANT_PORT: 0, PHARMACY_PORT: 0, INVENTORY_PORT: 0, POS_PORT: 0, PORT: 0 } : {};
  const e: Env = { ...env, ...portEnv } as Env;
  const started: { close(): Promise<void> }[] = [];
  try {
    const ports: number[] = [];
    for (const subgraph of [tenantSubgraph, pharmacy, inventory, pos]) {
      const running = await subgraph.main(e);
      started.push(running);
      ports.push(running.port);
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
    const gateway = opts.gateway === false ? { port: routed.PORT } : await startGateway(routed);
    if ('close' in gateway) started.push(gateway);
    const relay = await startRelayProcess(routed);
    started.push(relay);
    return {
      url: `http://127.0.0.1:${gateway.port}/graphql`,
      env: routed,
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
