import type { SubgraphContext, SubgraphRuntime } from '@umi/subgraph';
import type { Loaders } from './loaders';

/** An inventory request: the caller, its tenant scope and the request's loaders. */
export type InventoryContext = SubgraphContext<SubgraphRuntime, Loaders>;
