import type { TokenBucket } from '@umi/kit';
import type { TenantProvisioner } from '@umi/db';
import type { SubgraphContext, SubgraphRuntime } from '@umi/subgraph';
import type { Loaders } from './loaders';
import type { UserDirectory } from './user-directory';

/** The tenant subgraph's own dependencies on top of the shared runtime, built once per process. */
export interface TenantDeps extends SubgraphRuntime {
  /** Login attempts per tenant + account + IP. */
  loginPerAccount: TokenBucket;
  /** Login attempts per IP. */
  loginPerIp: TokenBucket;
  /** Creates tenants: their rows, schema, migrations and first ADMIN, in one owner transaction. */
  provisioner: TenantProvisioner;
  /** Users that other subgraphs reference, cached per tenant. */
  users: UserDirectory;
}

/** A tenant-subgraph request: the caller, its scopes, the dependencies and the request's loaders. */
export type TenantContext = SubgraphContext<TenantDeps, Loaders>;
