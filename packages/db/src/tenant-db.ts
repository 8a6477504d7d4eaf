import type { PrismaClient, Prisma } from './generated/tenant/client';
import type { Pool } from 'pg';
import { bindSql, pgExecutor, type SqlRunner } from './sql';
import { TRANSACTION_OPTIONS } from './shared-db';

/** Prisma's model delegates without its `$` escape hatches (raw SQL, transactions, connection). */
type Models<C> = Omit<C, `$${string}` | symbol>;

/** A tenant's data inside one transaction: Prisma's models and tagged SQL, both bound to its schema. */
export type TenantTx = Models<Prisma.TransactionClient> & {
  /** Tagged SQL over the tenant's schema (see `sql`), in this transaction. */
  readonly sql: SqlRunner;
};

/**
 * A tenant's data as a request sees it: Prisma's models bound to the tenant's schema, tagged SQL
 * bound to the same schema, and transactions. No raw SQL text, no other schema, no pool.
 */
export type TenantDb = Models<PrismaClient> & {
  readonly sql: SqlRunner;
  /** Runs `fn` in one transaction (the request's unit of work). */
  transaction<T>(fn: (tx: TenantTx) => Promise<T>): Promise<T>;
};

/**
 * Wraps a client (or one of its transactions) so that model delegates pass through and every
 * `$` member is hidden; `extra` adds `sql` and, for a client, `transaction`.
 */
function restrict<T extends object>(target: object, extra: Record<string, unknown>): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'string') {
        if (prop in extra) return extra[prop];
        if (prop.startsWith('$')) return undefined;
      }
      return Reflect.get(t, prop, receiver) as unknown;
    },
  }) as T;
}

/** The transaction view of `tx`, bound to `schema`. */
export function tenantTx(tx: Prisma.TransactionClient, schema: string): TenantTx {
  return restrict<TenantTx>(tx, { sql: bindSql(tx, schema) });
}

/**
 * The request view of a tenant's Prisma client, bound to `schema`. Tagged SQL outside a
 * transaction runs on the pool directly (one statement, no transaction around it); inside one, on
 * the transaction's connection. `client` may be a function: it is then called on the first model
 * access or transaction only, so a request that runs nothing but tagged SQL never builds a client.
 */
export function tenantDb(client: PrismaClient | (() => PrismaClient), schema: string, pool: Pool): TenantDb {
  const clientOf = typeof client === 'function' ? client : () => client;
  const transaction = <T>(fn: (tx: TenantTx) => Promise<T>): Promise<T> =>
    clientOf().$transaction((tx) => fn(tenantTx(tx, schema)), TRANSACTION_OPTIONS);
  const extra: Record<string, unknown> = { sql: bindSql(pgExecutor(pool), schema), transaction };
  if (typeof client !== 'function') return restrict<TenantDb>(client, extra);
  return new Proxy(
    {},
    {
      get(_, prop) {
        if (typeof prop === 'string') {
          if (prop in extra) return extra[prop];
          if (prop.startsWith('$')) return undefined;
        }
        const target = clientOf();
        return Reflect.get(target, prop, target) as unknown;
      },
      has(_, prop) {
        if (typeof prop === 'string' && (prop in extra || prop.startsWith('$'))) return prop in extra;
        return Reflect.has(clientOf(), prop);
      },
    },
  ) as TenantDb;
}
