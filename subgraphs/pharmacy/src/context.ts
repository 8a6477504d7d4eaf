import type { FieldCipher } from '@umi/kit';
import type { Counter } from 'prom-client';
import type { SubgraphContext, SubgraphRuntime } from '@umi/subgraph';
import type { Loaders } from './loaders';

/** The pharmacy process's dependencies: the shared runtime and the patient-data cipher. */
export type PharmacyDeps = SubgraphRuntime & {
  /** Encrypts and decrypts patients' sensitive fields with per-tenant keys. */
  cipher: FieldCipher;
  /** `prescriptions_processed_total`: dispensings committed (a prescription supplied in full or in part). No tenant label: unbounded. */
  prescriptionsProcessed: Counter;
};

/** A pharmacy request: the caller, its tenant scope and the request's loaders. */
export type PharmacyContext = SubgraphContext<PharmacyDeps, Loaders>;
