import type { Pool } from 'pg';
import type { AccessTokens, Env, InternalTokens, Logger, Metrics, TokenBucket } from '@umi/kit';
import type { BranchDirectory, SharedClient, TenantClients, TenantDirectory } from '@umi/db';

/** Everything the tenant subgraph needs from outside, built once per process (or per test). */
export interface TenantDeps {
  env: Env;
  logger: Logger;
  metrics: Metrics;
  /** Application pool (non-owner role, RLS applies). */
  appPool: Pool;
  /** Owner pool, for provisioning (DDL) only. */
  ownerPool: Pool;
  shared: SharedClient;
  tenants: TenantClients;
  directory: TenantDirectory;
  /** Branches per tenant, cached: what references to branches resolve from. */
  branches: BranchDirectory;
  accessTokens: AccessTokens;
  internalTokens: InternalTokens;
  /** Login attempts per tenant + account + IP. */
  loginPerAccount: TokenBucket;
  /** Login attempts per IP. */
  loginPerIp: TokenBucket;
}
