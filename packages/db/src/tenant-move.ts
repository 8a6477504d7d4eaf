import type { Pool, PoolClient } from 'pg';
import { assertTenantSchema, quoteIdent } from './identifiers';
import { appliedTenantMigrations, ensureAppRole, inTransaction, lockTenantSchema } from './migrate';
import { copyTenantSchema, tenantRowCounts } from './tenant-backup';

export interface MoveOptions {
  /** The owner's pool on the primary (the shared schema: the directory). */
  primary: Pool;
  /** The owner's pool of a server by connection reference (`primary` included). */
  serverPool(server: string): Pool;
  appRole: string;
  /** Tenant id or subdomain. */
  tenant: string;
  /** The target server's id (database_servers.id). */
  target: string;
  /**
   * Keep the old schema (renamed `moved_<epoch>_<schema>`) instead of dropping it, for a manual
   * `DROP SCHEMA ... CASCADE` once the move is trusted.
   */
  keepOld?: boolean;
  /** How long the copy waits for writes in flight to finish before giving up (ms). */
  lockTimeoutMs?: number;
  /** Tells every process to forget its directory entry of the tenant (Redis publish); best effort. */
  publish?(tenantId: string): Promise<void>;
  /** Test seams: after the pause is set and the source locked; after the copy committed on the target. */
  hooks?: { locked?(): Promise<void>; copied?(): Promise<void> };
}

export interface MoveReport {
  tenantId: string;
  schema: string;
  from: string;
  to: string;
  /** Rows copied per table (equal on both sides: checked before the switch). */
  counts: Record<string, number>;
  /** Milliseconds the tenant's writes were paused (flag set to flag cleared). */
  pausedMs: number;
  /** The old schema's new name when kept, else null (dropped). */
  keptAs: string | null;
}

interface Placement {
  id: string;
  schema_name: string;
  server_id: string;
  source_ref: string;
  target_ref: string | null;
}

async function platformTx<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await inTransaction(c, async () => {
      await c.query(`SELECT set_config('app.platform', 'on', true)`);
      return fn(c);
    });
  } finally {
    c.release();
  }
}

/** SQLSTATEs of a lock the copy did not get: a writer's transaction held one it wanted, or it waited too long. */
const LOCK_LOST = new Set(['40P01', '55P03']);

/**
 * Opens a transaction on `source` holding EXCLUSIVE locks on every table of `schema`. The locks are
 * taken one table at a time, so a writer that already holds one table and wants another may
 * deadlock with the move: PostgreSQL aborts one side, and when it is the move, it starts again
 * (the pause flag keeps new writers away, so the writes in flight run out within a few tries).
 */
async function lockSchema(source: PoolClient, schema: string, server: string, lockTimeoutMs: number): Promise<void> {
  const deadline = Date.now() + lockTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    await source.query('BEGIN');
    try {
      // Short tries: a writer caught between two of our locks gets through when we let go, instead
      // of both waiting a deadlock_timeout for PostgreSQL to pick a loser.
      await source.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.max(50, Math.min(250, deadline - Date.now()))}ms`]);
      const { rows: tables } = await source.query<{ name: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
        [schema],
      );
      if (tables.length === 0) throw new Error(`schema ${schema} has no tables on ${server}`);
      await source.query(`LOCK TABLE ${tables.map((t) => t.name).join(', ')} IN EXCLUSIVE MODE`);
      return;
    } catch (err) {
      await source.query('ROLLBACK').catch(() => undefined);
      const sqlState = (err as { code?: string }).code;
      if (!sqlState || !LOCK_LOST.has(sqlState) || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(20 * attempt, 200)));
    }
  }
}

/**
 * Moves a tenant's schema to another server with nothing lost:
 *
 * 1. The directory marks the tenant moving (`moving_since`) and every process is told: its
 *    mutations are refused with TENANT_MOVING (retryable) while reads go on from the old server.
 * 2. On the old server one transaction takes EXCLUSIVE locks on every table of the schema. That
 *    waits for writes in flight to commit, and from then on no write can happen there whatever
 *    a process's directory cache says (EXCLUSIVE lets plain reads through, nothing else). This is
 *    the exact barrier; the flag only keeps most writers from queueing behind it.
 * 3. The rows are copied to the target in one transaction there, and the row counts compared.
 * 4. The directory switches `server_id` and clears the pause; processes are told again.
 * 5. The old schema is dropped (or renamed away) in the locking transaction, so a writer that
 *    was queued on a lock finds its table gone and fails (TENANT_MOVING), never writing there.
 *
 * A failure before step 4 rolls back the copy, clears the pause and leaves the tenant where it was.
 */
export async function moveTenant(opts: MoveOptions): Promise<MoveReport> {
  const placement = await platformTx(opts.primary, async (c) => {
    const { rows } = await c.query<Placement>(
      `SELECT t.id::text, t.schema_name, t.server_id, s.connection_ref AS source_ref,
              (SELECT connection_ref FROM shared.database_servers WHERE id = $2) AS target_ref
         FROM shared.tenants t JOIN shared.database_servers s ON s.id = t.server_id
        WHERE (t.id::text = lower($1) OR t.subdomain = lower($1)) AND t.deleted_at IS NULL`,
      [opts.tenant, opts.target],
    );
    return rows[0];
  });
  if (!placement) throw new Error(`no tenant ${opts.tenant}`);
  if (!placement.target_ref) throw new Error(`no database server ${opts.target}`);
  if (placement.server_id === opts.target) throw new Error(`tenant ${opts.tenant} is already on ${opts.target}`);
  const schema = assertTenantSchema(placement.schema_name);
  const sourcePool = opts.serverPool(placement.source_ref);
  const targetPool = opts.serverPool(placement.target_ref);
  const publish = async () => {
    await opts.publish?.(placement.id).catch(() => undefined);
  };

  const pausedAt = Date.now();
  await platformTx(opts.primary, (c) => c.query('UPDATE shared.tenants SET moving_since = now() WHERE id = $1::uuid', [placement.id]));
  await publish();

  const source = await sourcePool.connect();
  const target = await targetPool.connect();
  let switched = false;
  let keptAs: string | null = null;
  try {
    await ensureAppRole(target, opts.appRole);
    await lockSchema(source, schema, placement.source_ref, opts.lockTimeoutMs ?? 30_000);
    await opts.hooks?.locked?.();
    const before = await tenantRowCounts(source, schema);

    const counts = await inTransaction(target, async () => {
      await lockTenantSchema(target, schema);
      // A schema of this name there is a failed move's leftover: the directory never pointed at it.
      await target.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      const copied = await copyTenantSchema(source, target, schema, opts.appRole, before);
      const after = await tenantRowCounts(target, schema);
      const differ = Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t] || (t in copied && copied[t] !== before[t]));
      if (differ.length > 0) throw new Error(`row counts differ after the copy: ${differ.map((t) => `${t} ${before[t]} -> ${after[t]}`).join(', ')}`);
      return copied;
    });
    await opts.hooks?.copied?.();

    const names = await appliedTenantMigrations(target, schema);
    await platformTx(opts.primary, (c) =>
      c.query('UPDATE shared.tenants SET server_id = $2, moving_since = NULL, schema_migrations = $3::text[] WHERE id = $1::uuid', [placement.id, opts.target, names]),
    );
    switched = true;
    const pausedMs = Date.now() - pausedAt;
    await publish();

    if (opts.keepOld) {
      keptAs = `moved_${Math.floor(Date.now() / 1000)}_${schema}`.slice(0, 63);
      await source.query(`ALTER SCHEMA ${quoteIdent(schema)} RENAME TO ${quoteIdent(keptAs)}`);
    } else {
      await source.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    }
    await source.query('COMMIT');
    return { tenantId: placement.id, schema, from: placement.server_id, to: opts.target, counts, pausedMs, keptAs };
  } catch (err) {
    await source.query('ROLLBACK').catch(() => undefined);
    if (!switched) {
      // Nothing moved: the copy (if it committed) is dropped and the tenant takes writes again.
      await target.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
      await platformTx(opts.primary, (c) => c.query('UPDATE shared.tenants SET moving_since = NULL WHERE id = $1::uuid', [placement.id])).catch(() => undefined);
      await publish();
    }
    throw err;
  } finally {
    source.release();
    target.release();
  }
}
