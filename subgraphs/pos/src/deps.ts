import type { SubgraphRuntime } from '@umi/db';

/** Everything the pos subgraph needs from outside, built once per process (or per test). */
export type PosDeps = SubgraphRuntime;
