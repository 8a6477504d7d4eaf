import { Pool, type PoolConfig } from 'pg';
import { assertRoleName } from './identifiers';

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
  pool.on('error', () => {
    // Idle-client errors (server restart) surface on the next query; nothing to do here.
  });
  return pool;
}

/** The owner's pool: migrations and tenant provisioning (DDL) only. */
export function createOwnerPool(url: string, max = 2): Pool {
  const pool = new Pool({ connectionString: url, max, options: '-c timezone=UTC' });
  pool.on('error', () => {});
  return pool;
}
