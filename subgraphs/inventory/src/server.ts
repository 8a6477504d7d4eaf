import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { createSubgraphServer } from '@umi/kit';
import type { InventoryDeps } from './deps';
import { createContextFactory, type InventoryContext } from './context';
import { permissions } from './permissions';
import { resolvers } from './resolvers';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/** The inventory subgraph (catalogue and stock) as a server that has not started listening. */
export function createServer(deps: InventoryDeps) {
  return createSubgraphServer<InventoryContext>({
    name: 'inventory',
    typeDefs,
    resolvers: resolvers as never,
    permissions,
    internalTokens: deps.internalTokens,
    logger: deps.logger,
    metrics: deps.metrics,
    maxRepresentations: deps.env.MAX_ENTITY_REPRESENTATIONS,
    createContext: createContextFactory(deps),
    ready: async () => {
      await deps.appPool.query('SELECT 1');
    },
  });
}
