import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { PrismaClient, Prisma } from './generated/shared/client';
import { bindSql, type SqlRunner } from './sql';

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

/** A shared-schema transaction as services see it: models and tagged SQL, no raw text. */
export type SharedScopedTx = Omit<SharedTx, `$${string}` | symbol> & {
  /** Tagged SQL: `sharedTables.*`, and `tables.*` of the request's tenant when it has one. */
  readonly sql: SqlRunner;
};

/** The shared schema under one request's row-level-security scope. */
export interface SharedDb {
  readonly scope: Scope;
  /** Runs `fn` in one transaction with the scope's settings in force. */
  transaction<T>(fn: (tx: SharedScopedTx) => Promise<T>): Promise<T>;
}

/**
 * The shared schema as seen by `scope`; `tenantSchema` (the scope's tenant's validated schema)
 * binds the tenant tables of tagged SQL, so an audit row lands in that tenant's schema only.
 */
export function scopedShared(db: SharedClient, scope: Scope, tenantSchema: string | null): SharedDb {
  return {
    scope,
    transaction: (fn) =>
      sharedTx(db, scope, (tx) => {
        const sql = bindSql(tx, tenantSchema);
        return fn(
          new Proxy(tx, {
            get(t, prop, receiver) {
              if (prop === 'sql') return sql;
              if (typeof prop === 'string' && prop.startsWith('$')) return undefined;
              return Reflect.get(t, prop, receiver) as unknown;
            },
          }) as unknown as SharedScopedTx,
        );
      }),
  };
}
