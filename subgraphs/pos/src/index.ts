import { join } from 'node:path';
import { runMain } from '@umi/kit';
import { defineSubgraph, type SubgraphRuntime } from '@umi/subgraph';
import { createLoaders, type Loaders } from './loaders';
import { permissions } from './policy';
import { resolvers } from './resolvers';

/** The pos subgraph: tills, sales, payments, receipts, refunds. */
export const pos = defineSubgraph<SubgraphRuntime, Loaders>({
  name: 'pos',
  schemaFile: join(__dirname, '..', 'schema.graphql'),
  resolvers,
  policy: permissions,
  loaders: createLoaders,
});

if (require.main === module) runMain(() => pos.main());
export { startFiscalWorker, type FiscalWorker, type FiscalWorkerOptions } from './jobs/fiscal-worker';
export { saveSalesPayload, paymentTypeOf, type FiscalInvoice } from './fiscal/invoice';
