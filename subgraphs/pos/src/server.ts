import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { createSubgraphServer } from '@umi/kit';
import type { PosDeps } from './deps';
import { createContextFactory, type PosContext } from './context';
import { permissions } from './permissions';
import { resolvers } from './resolvers';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/** The pos subgraph (tills, sales, payments, refunds) as a server that has not started listening. */
export function createServer(deps: PosDeps) {
  return createSubgraphServer<PosContext>({
    name: 'pos',
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
