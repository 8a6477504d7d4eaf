import type { FieldCipher } from '@umi/kit';
import type { SubgraphContext, SubgraphRuntime } from '@umi/subgraph';
import type { Loaders } from './loaders';

/** The pharmacy process's dependencies: the shared runtime and the patient-data cipher. */
export type PharmacyDeps = SubgraphRuntime & {
  /** Encrypts and decrypts patients' sensitive fields with per-tenant keys. */
  cipher: FieldCipher;
};

/** A pharmacy request: the caller, its tenant scope and the request's loaders. */
export type PharmacyContext = SubgraphContext<PharmacyDeps, Loaders>;
