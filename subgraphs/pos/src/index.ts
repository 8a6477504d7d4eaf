import { createLogger, loadEnv, subgraphPort, type Env, type Logger, runMain } from '@umi/kit';
import { createSubgraphRuntime } from '@umi/db';
import type { PosDeps } from './deps';
import { createServer } from './server';

/** Builds the pos subgraph's dependencies; tests call it with their own environment. */
export function createPosDeps(env: Env, logger?: Logger): PosDeps {
  return createSubgraphRuntime(env, 'pos', logger);
}

/** Starts the pos subgraph on its port; resolves once it listens. */
export async function main(env: Env = loadEnv()) {
  const logger = createLogger('pos', env.LOG_LEVEL);
  const deps = createPosDeps(env, logger);
  const server = await createServer(deps);
  const port = await server.listen(subgraphPort(env, 'pos'), env.SUBGRAPH_HOST);
  logger.info({ port }, 'pos subgraph listening');
  return {
    port,
    async close() {
      await server.close();
      await deps.close();
    },
  };
}

if (require.main === module) runMain(() => main());
