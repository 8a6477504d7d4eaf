import type { FieldCipher } from '@umi/kit';
import type { SubgraphContext, SubgraphRuntime } from '@umi/subgraph';
import type { Loaders } from './loaders';
import type { MobileMoneyWorker } from './services/mobile-money/types';

/** The pos process's dependencies: the shared runtime, the field cipher and the mobile-money worker. */
export interface PosDeps extends SubgraphRuntime {
  /** Encrypts providers' credentials (null without PATIENT_DATA_KEYS: mobile money cannot be configured). */
  cipher: FieldCipher | null;
  momo: MobileMoneyWorker;
}

/** A pos request: the caller, its tenant scope and the request's loaders. */
export type PosContext = SubgraphContext<PosDeps, Loaders>;
