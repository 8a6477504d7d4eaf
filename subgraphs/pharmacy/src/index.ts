import { createFieldCipher, createLogger, loadEnv, parseKeyring, subgraphPort, type Env, type Logger, runMain } from '@umi/kit';
import { createSubgraphRuntime } from '@umi/db';
import type { PharmacyDeps } from './deps';
import { createServer } from './server';

/** Builds the pharmacy subgraph's dependencies; tests call it with their own environment. */
export function createPharmacyDeps(env: Env, logger?: Logger): PharmacyDeps {
  // Without keys patients' medical history could be neither written nor read: refuse to start.
  if (!env.PATIENT_DATA_KEYS) throw new Error('PATIENT_DATA_KEYS is required by the pharmacy subgraph');
  const cipher = createFieldCipher(parseKeyring(env.PATIENT_DATA_KEYS));
  return { ...createSubgraphRuntime(env, 'pharmacy', logger), cipher };
}

/** Starts the pharmacy subgraph on its port; resolves once it listens. */
export async function main(env: Env = loadEnv()) {
  const logger = createLogger('pharmacy', env.LOG_LEVEL);
  const deps = createPharmacyDeps(env, logger);
  const server = await createServer(deps);
  const port = await server.listen(subgraphPort(env, 'pharmacy'), env.SUBGRAPH_HOST);
  logger.info({ port }, 'pharmacy subgraph listening');
  return {
    port,
    async close() {
      await server.close();
      await deps.close();
    },
  };
}

if (require.main === module) runMain(() => main());
