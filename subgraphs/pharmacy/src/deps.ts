import type { SubgraphRuntime } from '@umi/db';

/** Everything the pharmacy subgraph needs from outside, built once per process (or per test). */
export type PharmacyDeps = SubgraphRuntime;
