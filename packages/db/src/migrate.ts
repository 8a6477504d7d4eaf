import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClientBase, Pool } from 'pg';
import { assertRoleName, assertTenantSchema, quoteIdent } from './identifiers';

/** Where the versioned SQL lives; one folder per kind of schema. */
export const MIGRATIONS_DIR = resolve(__dirname, '../../../prisma/migrations');

/**
 * Advisory lock keys. The shared schema's migrations take MIGRATION_LOCK_KEY exclusively; tenant
 * provisioning, restores and tenant-schema migrations take it shared (so they only wait while the
 * shared schema changes, never for each other), plus a lock per schema (TENANT_SCHEMA_LOCK_KEY with
 * the schema's hash) so that two runners never migrate one schema at once.
 */
export const MIGRATION_LOCK_KEY = 4_242_001;
export const TENANT_SCHEMA_LOCK_KEY = 4_242_002;

export type MigrationKind = 'shared' | 'tenant';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** The migrations of one kind, in file-name order (`NNNN_name.sql`). */
export function loadMigrations(kind: MigrationKind, dir = MIGRATIONS_DIR): Migration[] {
  const folder = join(dir, kind);
  return readdirSync(folder)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(folder, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/**
 * Applies the pending migrations of `kind` to `schema` on `client`, which must already be inside a
 * transaction. Tenant migrations are written without schema names and run with `search_path` set
 * to the tenant's schema for this transaction only. A migration whose file changed after it was
 * applied is an error: applied migrations are immutable.
 */
export async function applyMigrations(
  client: ClientBase,
  kind: MigrationKind,
  schema: string,
  appRole: string,
  /** Applies only the migrations it accepts (a restore rebuilds a schema at its backup's version first). */
  only: (name: string) => boolean = () => true,
  /**
   * Whether `client` also holds the shared schema, so the directory's copy of the version is kept
   * in this transaction. A tenant schema on another server has no shared schema beside it: its
   * caller records the version on the primary after committing (recordTenantVersion).
   */
  directory: 'same' | 'elsewhere' = 'same',
): Promise<string[]> {
  if (kind === 'tenant') assertTenantSchema(schema);
  else if (schema !== 'shared') throw new Error('shared migrations run in the shared schema');
  const s = quoteIdent(schema);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await client.query(`SELECT set_config('search_path', $1, true)`, [`${s}, public`]);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${s}.umi_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const { rows } = await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${s}.umi_migrations`);
  const applied = new Map(rows.map((r) => [r.name, r.checksum]));
  const done: string[] = [];
  for (const m of loadMigrations(kind).filter((x) => only(x.name))) {
    const previous = applied.get(m.name);
    if (previous !== undefined) {
      if (previous !== m.checksum) throw new Error(`migration ${kind}/${m.name} changed after it was applied to ${schema}`);
      continue;
    }
    await client.query(m.sql);
    await client.query(`INSERT INTO ${s}.umi_migrations (name, checksum) VALUES ($1, $2)`, [m.name, m.checksum]);
    done.push(m.name);
  }
  await grantAppRole(client, schema, appRole);
  if (kind === 'tenant' && directory === 'same') {
    // The directory's copy of the schema's version: what `pendingTenantSchemas` reads in one query.
    // The shared tables force row-level security even on their owner: act as the platform.
    await client.query(`SELECT set_config('app.platform', 'on', true)`);
    await client.query(
      `UPDATE shared.tenants SET schema_migrations = (SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM ${s}.umi_migrations) WHERE schema_name = $1`,
      [schema],
    );
  }
  return done;
}

/** The migrations applied to `schema` on `client` (a tenant schema's server). */
export async function appliedTenantMigrations(client: Pick<ClientBase, 'query'>, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${quoteIdent(assertTenantSchema(schema))}.umi_migrations ORDER BY name`);
  return rows.map((r) => r.name);
}

/** Records on the primary (`pool`, the owner's) the migrations a tenant schema on another server has. */
export async function recordTenantVersion(pool: Pool, schema: string, names: string[]): Promise<void> {
  const c = await pool.connect();
  try {
    await inTransaction(c, async () => {
      await c.query(`SELECT set_config('app.platform', 'on', true)`);
      await c.query(`UPDATE shared.tenants SET schema_migrations = $2::text[] WHERE schema_name = $1`, [schema, names]);
    });
  } finally {
    c.release();
  }
}

/** Takes, for this transaction, the locks a change of one tenant schema needs (see MIGRATION_LOCK_KEY). */
export async function lockTenantSchema(client: Pick<ClientBase, 'query'>, schema: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock_shared($1::bigint)', [MIGRATION_LOCK_KEY]);
  await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [TENANT_SCHEMA_LOCK_KEY, schema]);
}

/** The application role reads and writes rows; it owns nothing, so row-level security binds it. */
async function grantAppRole(client: ClientBase, schema: string, appRole: string): Promise<void> {
  const s = quoteIdent(schema);
  const r = quoteIdent(assertRoleName(appRole));
  await client.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
  await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`);
  await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`);
  await client.query(`REVOKE ALL ON ${s}.umi_migrations FROM ${r}`);
}

/**
 * Creates the non-login application role when it is missing and lets the migrating user assume it.
 * Several databases of one cluster (parallel test runs) may race here; the loser's error is benign.
 */
export async function ensureAppRole(client: ClientBase, appRole: string): Promise<void> {
  const r = quoteIdent(assertRoleName(appRole));
  await client.query(`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${appRole}') THEN
      CREATE ROLE ${r} NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END $$`);
  const { rows } = await client.query<{ super: boolean }>(`SELECT rolsuper AS super FROM pg_roles WHERE rolname = current_user`);
  if (!rows[0]?.super) await client.query(`GRANT ${r} TO CURRENT_USER`);
}

export interface MigrationReport {
  shared: string[];
  /** Tenant schemas migrated by this run, with what each got. */
  tenants: Record<string, string[]>;
  /** Tenant schemas found behind the code's migrations (the rest were checked in the same query). */
  pending: number;
  /** Tenant schemas checked. */
  checked: number;
}

export interface MigrateOptions {
  /** Tenant schemas migrated at once (each on its own connection, in its own transaction). */
  concurrency?: number;
  /** Called after each tenant schema: done of total. */
  onProgress?(done: number, total: number, schema: string): void;
  /**
   * The owner's pool of a further database server, by connection reference (`primary` is `pool`).
   * Without it every tenant schema is taken to be on the primary, as with one server.
   */
  serverPool?(server: string): Pool;
}

/** Tenant schemas whose recorded migrations lack one of the code's, in one query whatever their number. */
export async function pendingTenantSchemas(client: ClientBase): Promise<{ pending: string[]; checked: number; servers: Record<string, string> }> {
  const names = loadMigrations('tenant').map((m) => m.name);
  const rows = await inTransaction(client, async () => {
    // The shared tables force row-level security even on their owner (unless a superuser).
    await client.query(`SELECT set_config('app.platform', 'on', true)`);
    const r = await client.query<{ schema_name: string; behind: boolean; server: string }>(
      `SELECT t.schema_name, NOT (t.schema_migrations @> $1::text[]) AS behind, s.connection_ref AS server
         FROM shared.tenants t JOIN shared.database_servers s ON s.id = t.server_id
        WHERE t.deleted_at IS NULL ORDER BY t.schema_name`,
      [names],
    );
    return r.rows;
  });
  const pending = rows.filter((r) => r.behind);
  return { pending: pending.map((r) => r.schema_name), checked: rows.length, servers: Object.fromEntries(pending.map((r) => [r.schema_name, r.server])) };
}

async function sharedUpToDate(client: ClientBase): Promise<boolean> {
  const { rows: exists } = await client.query<{ ok: boolean }>(`SELECT to_regclass('shared.umi_migrations') IS NOT NULL AS ok`);
  if (!exists[0]?.ok) return false;
  const { rows } = await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM shared.umi_migrations');
  const applied = new Map(rows.map((r) => [r.name, r.checksum]));
  return loadMigrations('shared').every((m) => applied.get(m.name) === m.checksum);
}

/**
 * Migrates the shared schema (under the exclusive lock, briefly), then every tenant schema that is
 * behind, `concurrency` at a time, each in its own transaction under its own lock. Provisioning goes
 * on meanwhile; a crashed run resumes where it stopped (a migrated schema is no longer behind); a
 * run with nothing to do costs one query for all tenants.
 */
export async function migrateAll(pool: Pool, appRole: string, opts: MigrateOptions = {}): Promise<MigrationReport> {
  const report: MigrationReport = { shared: [], tenants: {}, pending: 0, checked: 0 };
  const client = await pool.connect();
  let pending: string[];
  let placed: Record<string, string> = {};
  try {
    await ensureAppRole(client, appRole);
    // The exclusive lock waits for every tenant schema being changed and holds up provisioning, so
    // it is taken only when the shared schema has something to apply (or a file changed: then
    // applyMigrations refuses under the lock).
    if (!(await sharedUpToDate(client))) {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        report.shared = await inTransaction(client, () => applyMigrations(client, 'shared', 'shared', appRole));
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    }
    ({ pending, checked: report.checked, servers: placed } = await pendingTenantSchemas(client));
  } finally {
    client.release();
  }
  // Every further server needs the application role too (its pools assume it at connect).
  const elsewhere = opts.serverPool ? [...new Set(Object.values(placed))].filter((s) => s !== 'primary') : [];
  for (const server of elsewhere) {
    const c = await opts.serverPool!(server).connect();
    try {
      await ensureAppRole(c, appRole);
    } finally {
      c.release();
    }
  }
  report.pending = pending.length;
  let next = 0;
  let done = 0;
  const migrateElsewhere = async (schema: string, server: string) => {
    const c = await opts.serverPool!(server).connect();
    try {
      report.tenants[schema] = await inTransaction(c, async () => {
        await lockTenantSchema(c, schema);
        return applyMigrations(c, 'tenant', schema, appRole, undefined, 'elsewhere');
      });
      // After the commit: the directory never claims a version the schema does not have.
      await recordTenantVersion(pool, schema, await appliedTenantMigrations(c, schema));
    } finally {
      c.release();
    }
  };
  const worker = async () => {
    const c = await pool.connect();
    try {
      for (let i = next++; i < pending.length; i = next++) {
        const schema = pending[i]!;
        const server = placed[schema] ?? 'primary';
        if (server !== 'primary') {
          // Migrating it here would make an empty copy on the primary: refuse instead.
          if (!opts.serverPool) throw new Error(`tenant schema ${schema} is on server "${server}": configure it in TENANT_DATABASE_URLS`);
          await migrateElsewhere(schema, server);
        } else
          report.tenants[schema] = await inTransaction(c, async () => {
            await lockTenantSchema(c, schema);
            return applyMigrations(c, 'tenant', schema, appRole);
          });
        opts.onProgress?.(++done, pending.length, schema);
      }
    } finally {
      c.release();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, pending.length)) }, worker));
  return report;
}

/** Runs `fn` between BEGIN and COMMIT on `client`, rolling back when it throws. */
export async function inTransaction<T>(client: ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
