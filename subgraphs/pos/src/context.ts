import type { SubgraphContext, SubgraphRuntime } from '@umi/subgraph';
import type { Loaders } from './loaders';

/** A pos request: the caller, its tenant scope and the request's loaders. */
export type PosContext = SubgraphContext<SubgraphRuntime, Loaders>;
