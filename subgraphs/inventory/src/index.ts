import { createLogger, loadEnv, subgraphPort, type Env, type Logger, runMain } from '@umi/kit';
import { createSubgraphRuntime } from '@umi/db';
import type { InventoryDeps } from './deps';
import { createServer } from './server';

/** Builds the inventory subgraph's dependencies; tests call it with their own environment. */
export function createInventoryDeps(env: Env, logger?: Logger): InventoryDeps {
  return createSubgraphRuntime(env, 'inventory', logger);
}

/** Starts the inventory subgraph on its port; resolves once it listens. */
export async function main(env: Env = loadEnv()) {
  const logger = createLogger('inventory', env.LOG_LEVEL);
  const deps = createInventoryDeps(env, logger);
  const server = await createServer(deps);
  const port = await server.listen(subgraphPort(env, 'inventory'), env.SUBGRAPH_HOST);
  logger.info({ port }, 'inventory subgraph listening');
  return {
    port,
    async close() {
      await server.close();
      await deps.close();
    },
  };
}

if (require.main === module) runMain(() => main());
