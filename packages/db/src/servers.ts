import type { Pool, PoolClient } from 'pg';
import { tableKinds, type SqlRunner, type Sql, bindSql, pgExecutor } from './sql';
import { scopedShared, sharedTx, type Scope, type SharedClient, type SharedDb, type SharedScopedTx } from './shared-db';
import { TenantClients } from './tenant-clients';
import type { TenantDb } from './tenant-db';

/** The server that holds the shared schema (DATABASE_URL), and every tenant placed nowhere else. */
export const PRIMARY_SERVER = 'primary';

/**
 * The connection references a process knows: `primary` is DATABASE_URL, the rest come from
 * TENANT_DATABASE_URLS. A directory row naming a reference missing here is a configuration error.
 */
export function serverUrls(primaryUrl: string, extra: Record<string, string> = {}): Map<string, string> {
  return new Map([[PRIMARY_SERVER, primaryUrl], ...Object.entries(extra)]);
}

/**
 * One bounded pool per database server, created on first use: a process that serves only the
 * primary's tenants opens no connection elsewhere. The connection budget (`create`'s size) holds
 * per server, so the total is at most servers × budget.
 */
export class ServerPools {
  private readonly pools = new Map<string, Pool>();

  constructor(
    private readonly urls: Map<string, string>,
    private readonly create: (url: string, server: string) => Pool,
    primary?: Pool,
  ) {
    if (primary) this.pools.set(PRIMARY_SERVER, primary);
  }

  /** The pool of `server` (a connection reference). */
  pool(server: string): Pool {
    let pool = this.pools.get(server);
    if (!pool) {
      const url = this.urls.get(server);
      if (!url) throw new Error(`database server "${server}" is not configured (TENANT_DATABASE_URLS)`);
      pool = this.create(url, server);
      this.pools.set(server, pool);
    }
    return pool;
  }

  /** Every configured server's reference, the primary first. */
  servers(): string[] {
    return [...this.urls.keys()];
  }

  /** Pools opened so far, by server. */
  opened(): ReadonlyMap<string, Pool> {
    return this.pools;
  }

  /** Ends every pool this object created (the primary's too when it was handed in). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end()));
  }
}

/** What routing needs of a tenant: its schema and the server holding it. */
export interface PlacedTenant {
  schemaName: string;
  server: string;
}

/**
 * Tenant data access routed to the tenant's server: one TenantClients (a bounded cache of Prisma
 * clients) per server, over that server's pool, so a client is keyed by (server, schema). With
 * only the primary configured this is one map lookup in front of today's TenantClients.
 */
export class TenantRouter {
  private readonly clients = new Map<string, TenantClients>();

  constructor(
    readonly pools: ServerPools,
    private readonly maxClientsPerServer: number,
  ) {}

  private of(server: string): TenantClients {
    let c = this.clients.get(server);
    if (!c) {
      c = new TenantClients(this.pools.pool(server), this.maxClientsPerServer);
      this.clients.set(server, c);
    }
    return c;
  }

  /** The tenant's schema on its server, as requests see it. */
  db(tenant: PlacedTenant): TenantDb {
    return this.of(tenant.server).db(tenant.schemaName);
  }

  /**
   * The shared schema (always on the primary) under `scope`, with the tenant's tables of tagged SQL
   * on the tenant's server. On the primary that is one transaction, as before. Elsewhere it cannot
   * be (no transaction spans two servers): statements naming tenant tables (audit rows, outbox
   * events) run in a transaction on the tenant's server, opened on first use and committed right
   * after the shared one. A failure before the shared commit rolls back both; only a failure of
   * the second commit itself could lose those rows, which is the price of placement documented
   * in the README.
   */
  shared(db: SharedClient, scope: Scope, tenant: PlacedTenant | null): SharedDb {
    if (!tenant || tenant.server === PRIMARY_SERVER) return scopedShared(db, scope, tenant?.schemaName ?? null);
    const pool = this.pools.pool(tenant.server);
    return {
      scope,
      async transaction<T>(fn: (tx: SharedScopedTx) => Promise<T>): Promise<T> {
        let remote: Promise<PoolClient> | null = null;
        const open = () =>
          (remote ??= (async () => {
            const c = await pool.connect();
            try {
              await c.query('BEGIN');
            } catch (err) {
              c.release(err as Error);
              throw err;
            }
            return c;
          })());
        let result: T;
        try {
          result = await sharedTx(db, scope, (tx) => {
            const local = bindSql(tx, null);
            const route = async (q: Sql): Promise<SqlRunner> => {
              const kinds = tableKinds(q);
              if (!kinds.tenant) return local;
              if (kinds.shared) throw new Error(`a statement joins shared and tenant tables of a tenant on server "${tenant.server}"`);
              return bindSql(pgExecutor(await open()), tenant.schemaName);
            };
            const sql: SqlRunner = {
              query: async (q, rows) => (await route(q)).query(q, rows),
              maybeOne: async (q, rows) => (await route(q)).maybeOne(q, rows),
              one: async (q, rows) => (await route(q)).one(q, rows),
              execute: async (q) => (await route(q)).execute(q),
            };
            return fn(
              new Proxy(tx, {
                get(t, prop, receiver) {
                  if (prop === 'sql') return sql;
                  if (typeof prop === 'string' && prop.startsWith('$')) return undefined;
                  return Reflect.get(t, prop, receiver) as unknown;
                },
              }) as unknown as SharedScopedTx,
            );
          });
        } catch (err) {
          if (remote) {
            const c = await (remote as Promise<PoolClient>).catch(() => null);
            if (c) {
              await c.query('ROLLBACK').catch(() => undefined);
              c.release();
            }
          }
          throw err;
        }
        if (remote) {
          const c = await (remote as Promise<PoolClient>);
          try {
            await c.query('COMMIT');
          } finally {
            c.release();
          }
        }
        return result;
      },
    };
  }

  /** Cached clients over every server (for metrics and tests). */
  stats(): ReturnType<TenantClients['stats']> {
    const total = { cached: 0, created: 0, prismaClients: 0 };
    for (const c of this.clients.values()) {
      const s = c.stats();
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s[k];
    }
    return total;
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
