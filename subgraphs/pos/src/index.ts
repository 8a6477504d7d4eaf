// First: tracing (when configured) must patch http, pg and ioredis before they load.
import '@umi/kit/tracing';
import { join } from 'node:path';
import { createFieldCipher, parseKeyring, runMain } from '@umi/kit';
import { defineSubgraph } from '@umi/subgraph';
import type { PosDeps } from './context';
import { createLoaders, type Loaders } from './loaders';
import { permissions } from './policy';
import { resolvers } from './resolvers';
import { callbackRoutes } from './services/mobile-money/callbacks';
import { createMobileMoneyWorker } from './services/mobile-money/worker';
import { paymentBacklog, salesCompleted } from './metrics';

/** The pos subgraph: tills, sales, payments, receipts, refunds, mobile money. */
export const pos = defineSubgraph<PosDeps, Loaders>({
  name: 'pos',
  schemaFile: join(__dirname, '..', 'schema.graphql'),
  resolvers,
  policy: permissions,
  loaders: createLoaders,
  dependencies: (runtime) => {
    const cipher = runtime.env.PATIENT_DATA_KEYS ? createFieldCipher(parseKeyring(runtime.env.PATIENT_DATA_KEYS)) : null;
    const momo = createMobileMoneyWorker(runtime, cipher);
    paymentBacklog(runtime);
    // Registered now, so that the series exists (at 0) before the first sale: a rate over a missing series is no data.
    salesCompleted(runtime.metrics);
    if (runtime.env.MOMO_WORKER) momo.start();
    return { cipher, momo, close: () => momo.stop() };
  },
  routes: (deps) => callbackRoutes(deps, deps.cipher, deps.momo),
});

if (require.main === module) runMain(() => pos.main());
export { startFiscalWorker, type FiscalWorker, type FiscalWorkerOptions } from './jobs/fiscal-worker';
export { saveSalesPayload, paymentTypeOf, type FiscalInvoice } from './fiscal/invoice';
