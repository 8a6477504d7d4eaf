import type { FieldCipher } from '@umi/kit';
import type { SubgraphRuntime } from '@umi/db';

/** Everything the pharmacy subgraph needs from outside, built once per process (or per test). */
export type PharmacyDeps = SubgraphRuntime & {
  /** Encrypts and decrypts patients' sensitive fields with per-tenant keys. */
  cipher: FieldCipher;
};
