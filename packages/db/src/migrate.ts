import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClientBase, Pool } from 'pg';
import { assertRoleName, assertTenantSchema, quoteIdent } from './identifiers';

/** Where the versioned SQL lives; one folder per kind of schema. */
export const MIGRATIONS_DIR = resolve(__dirname, '../../../prisma/migrations');

/** Key of the advisory lock that serialises migration runs and tenant provisioning. */
export const MIGRATION_LOCK_KEY = 4_242_001;

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
  return done;
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
  tenants: Record<string, string[]>;
}

/**
 * Migrates the shared schema, then every tenant schema, each in its own transaction, under a
 * session advisory lock so that two runners (two processes starting at once) never interleave.
 */
export async function migrateAll(pool: Pool, appRole: string): Promise<MigrationReport> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await ensureAppRole(client, appRole);
      const report: MigrationReport = { shared: [], tenants: {} };
      report.shared = await inTransaction(client, () => applyMigrations(client, 'shared', 'shared', appRole));
      const { rows } = await client.query<{ schema_name: string }>(
        'SELECT schema_name FROM shared.tenants WHERE deleted_at IS NULL ORDER BY schema_name',
      );
      for (const { schema_name } of rows) {
        report.tenants[schema_name] = await inTransaction(client, () => applyMigrations(client, 'tenant', schema_name, appRole));
      }
      return report;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
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
