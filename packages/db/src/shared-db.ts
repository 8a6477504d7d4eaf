import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { PrismaClient, Prisma } from './generated/shared/client';

export { Prisma as SharedPrismaNs };
export type SharedClient = PrismaClient;
export type SharedTx = Prisma.TransactionClient;

/**
 * How long a transaction may wait for a pooled connection, and run. Prisma's defaults (2 s, 5 s)
 * turn a burst of checkouts queueing on a small pool into internal errors; a till would rather
 * wait a little longer than fail.
 */
export const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;

/** Prisma Client for the `shared` schema over the given pool. */
export function createSharedClient(pool: Pool): SharedClient {
  return new PrismaClient({ adapter: new PrismaPg(pool, { schema: 'shared' }), transactionOptions: TRANSACTION_OPTIONS });
}

/**
 * Whose rows a shared-schema transaction may touch: one tenant's, or (platform operator, tenant
 * resolution, platform login) all.
 */
export type Scope = { kind: 'tenant'; tenantId: string } | { kind: 'platform' };

/**
 * Runs `fn` in a transaction whose row-level-security scope is set with transaction-local
 * settings, which end with the transaction and so never leak to the next user of the connection.
 */
export async function sharedTx<T>(db: SharedClient, scope: Scope, fn: (tx: SharedTx) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => {
    if (scope.kind === 'tenant') {
      await tx.$executeRaw`SELECT set_config('app.tenant_id', ${scope.tenantId}, true)`;
    } else {
      await tx.$executeRaw`SELECT set_config('app.platform', 'on', true)`;
    }
    return fn(tx);
  });
}
