// First: tracing (when configured) must patch http, pg and ioredis before they load.
import '@umi/kit/tracing';
import { join } from 'node:path';
import { createFieldCipher, parseKeyring, runMain } from '@umi/kit';
import { defineSubgraph } from '@umi/subgraph';
import type { PharmacyDeps } from './context';
import { createLoaders, type Loaders } from './loaders';
import { permissions } from './policy';
import { resolvers } from './resolvers';

/** The pharmacy subgraph: patients, prescriptions, safety checks, dispensing, the controlled-substance register. */
export const pharmacy = defineSubgraph<PharmacyDeps, Loaders>({
  name: 'pharmacy',
  schemaFile: join(__dirname, '..', 'schema.graphql'),
  resolvers,
  policy: permissions,
  loaders: createLoaders,
  dependencies: ({ env, metrics }) => {
    // Without keys patients' medical history could be neither written nor read: refuse to start.
    if (!env.PATIENT_DATA_KEYS) throw new Error('PATIENT_DATA_KEYS is required by the pharmacy subgraph');
    return {
      cipher: createFieldCipher(parseKeyring(env.PATIENT_DATA_KEYS)),
      prescriptionsProcessed: metrics.counter('prescriptions_processed_total', 'Prescriptions dispensed (supplied in full or in part), after commit'),
    };
  },
});

if (require.main === module) runMain(() => pharmacy.main());
export { purgeControlledRegister, purgeControlledRegisterOf } from './jobs/register-retention';
export { anonymiseInactivePatients } from './jobs/retention';
