// First: tracing (when configured) must patch http, pg and ioredis before they load.
import '@umi/kit/tracing';
import { join } from 'node:path';
import { runMain } from '@umi/kit';
import { defineSubgraph, type SubgraphRuntime } from '@umi/subgraph';
import { createLoaders, type Loaders } from './loaders';
import { permissions } from './policy';
import { resolvers } from './resolvers';

/** The inventory subgraph: the catalogue, stock by batch, transfers, suppliers and purchase orders. */
export const inventory = defineSubgraph<SubgraphRuntime, Loaders>({
  name: 'inventory',
  schemaFile: join(__dirname, '..', 'schema.graphql'),
  resolvers,
  policy: permissions,
  loaders: createLoaders,
});

if (require.main === module) runMain(() => inventory.main());
