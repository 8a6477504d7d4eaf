import { Client, Pool, type PoolConfig } from 'pg';
import { assertRoleName } from './identifiers';

/**
 * Gives every client of `pool` an error listener for its whole life. pg-pool listens only while a
 * client is idle: a connection that dies while checked out (PostgreSQL's 57P01 on a terminated
 * backend, a reset socket) between two queries, or in the moment it is handed from one borrower to
 * the next, emits 'error' on the client with nobody listening, which ends the process. Handled
 * here, the query that used it fails instead, and pg-pool discards the client on release (it is no
 * longer queryable).
 */
function guardClients(pool: Pool): void {
  pool.on('connect', (client) => {
    client.on('error', () => {
      // Surfaces on the client's current or next query; the pool drops it on release.
    });
  });
  pool.on('error', () => {
    // Idle-client errors (server restart): the pool has already removed the client.
  });
}

/**
 * The application's pool: every connection assumes the non-owner application role at start-up,
 * so row-level security binds every query the services make. One pool per process is the whole
 * connection budget, however many tenants are active.
 */
export function createAppPool(url: string, max: number, appRole: string, extra: PoolConfig = {}): Pool {
  const pool = new Pool({
    connectionString: url,
    max,
    options: `-c role=${assertRoleName(appRole)} -c timezone=UTC`,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    ...extra,
  });
  // Each tenant's Prisma adapter listens for pool errors; a bounded number, see TenantClients.
  pool.setMaxListeners(0);
  guardClients(pool);
  return pool;
}

/** The owner's pool: migrations and tenant provisioning (DDL) only. */
export function createOwnerPool(url: string, max = 2): Pool {
  const pool = new Pool({ connectionString: url, max, options: '-c timezone=UTC' });
  guardClients(pool);
  return pool;
}

/** SQLSTATEs and socket errors that mean the connection, not the statement, failed. */
const CONNECTION_CODES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '08000', '08001', '08003', '08004', '08006', '08007',
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND',
  // Prisma's: cannot reach / server closed the connection / pool timeout.
  'P1001', 'P1002', 'P1017', 'P2024',
]);
const CONNECTION_MESSAGES = /Connection terminated|terminating connection due to administrator command|Client has encountered a connection error|Connection closed|timeout exceeded when trying to connect|Client was closed|connection is closed|Can't reach database server|Server has closed the connection|ConnectionClosed/i;

/**
 * Whether `err` (or what it wraps: Prisma's driver-adapter errors keep pg's in `cause`) says the
 * database connection was lost or could not be had. Such a failure is the request's, not its
 * input's: it is retryable, and no statement of it committed unless COMMIT itself was answered.
 */
export function isConnectionError(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && !seen.has(e) && depth < 8; depth++) {
    seen.add(e);
    const o = e as { code?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; originalError?: unknown; kind?: unknown };
    for (const c of [o.code, o.originalCode]) if (typeof c === 'string' && CONNECTION_CODES.has(c)) return true;
    if (typeof o.message === 'string' && CONNECTION_MESSAGES.test(o.message)) return true;
    e = o.originalError ?? o.cause;
  }
  return false;
}

/**
 * Whether `err` says a tenant schema's table (or the schema) does not exist: what a request sees
 * that reached a tenant's former server after a move renamed its schema away (see tenant-move).
 * Only names under a tenant schema count, so a missing shared table stays an internal error.
 */
export function isTenantSchemaGone(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && !seen.has(e) && depth < 8; depth++) {
    seen.add(e);
    const o = e as { code?: unknown; originalCode?: unknown; message?: unknown; originalMessage?: unknown; cause?: unknown; originalError?: unknown; meta?: { driverAdapterError?: unknown } };
    const codes = [o.code, o.originalCode];
    const message = typeof o.originalMessage === 'string' ? o.originalMessage : o.message;
    if (codes.some((c) => c === '42P01' || c === '3F000' || c === 'P2021') && typeof message === 'string' && /\btenant_[a-z0-9_]{3,63}\b/.test(message)) return true;
    // Prisma's raw queries (P2010) keep the driver's error under meta.
    e = o.originalError ?? o.cause ?? o.meta?.driverAdapterError;
  }
  return false;
}

/**
 * Readiness of PostgreSQL on a connection of its own, never the request pool's: a pool busy with
 * requests is no reason to report a serving process down, and a probe queued behind them would
 * say just that. Answers within `timeoutMs`, and reuses a result for `cacheMs` so that probes
 * from several load balancers cost one query.
 */
export function createReadinessProbe(url: string, appRole: string, timeoutMs = 1000, cacheMs = 1000) {
  let client: Client | null = null;
  let last: { at: number; error: Error | null } | null = null;
  let running: Promise<void> | null = null;

  function drop(c: Client): void {
    if (client === c) client = null;
    void c.end().catch(() => {});
  }

  async function probe(): Promise<void> {
    let c = client;
    if (!c) {
      const fresh = new Client({
        connectionString: url,
        options: `-c role=${assertRoleName(appRole)} -c statement_timeout=${timeoutMs}`,
        connectionTimeoutMillis: timeoutMs,
        query_timeout: timeoutMs,
      });
      fresh.on('error', () => drop(fresh));
      client = fresh;
      c = fresh;
      await fresh.connect();
    }
    await c.query('SELECT 1');
  }

  return {
    /** Resolves when PostgreSQL answered within the timeout (now or less than `cacheMs` ago). */
    async check(): Promise<void> {
      if (last && Date.now() - last.at < cacheMs) {
        if (last.error) throw last.error;
        return;
      }
      running ??= (async () => {
        const held = client;
        try {
          await Promise.race([
            probe(),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs).unref()),
          ]);
          last = { at: Date.now(), error: null };
        } catch (err) {
          if (client) drop(client);
          else if (held) drop(held);
          last = { at: Date.now(), error: err as Error };
        } finally {
          running = null;
        }
      })();
      await running;
      if (last?.error) throw last.error;
    },
    async close(): Promise<void> {
      const c = client;
      client = null;
      if (c) await c.end().catch(() => {});
    },
  };
}
export type ReadinessProbe = ReturnType<typeof createReadinessProbe>;
