import type { SubgraphRuntime } from '@umi/db';

/** Everything the inventory subgraph needs from outside, built once per process (or per test). */
export type InventoryDeps = SubgraphRuntime;
