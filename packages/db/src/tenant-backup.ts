import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { ClientBase, Pool } from 'pg';
import { assertTenantSchema, isValidSubdomain, quoteIdent, tenantSchemaName } from './identifiers';
import { applyMigrations, inTransaction, loadMigrations, lockTenantSchema } from './migrate';
import { ensureSalePartitions, SALE_ID_REFERENCES, salesArePartitioned } from './sale-partitions';

/**
 * One tenant's backup: its schema's rows and its rows of the shared tables, read in one snapshot,
 * written as gzip'd lines `<table>\t<row as JSON>`. Rows are PostgreSQL's own `row_to_json` text and
 * go back through `json_populate_recordset`: JavaScript never parses a value, so numerics keep every
 * digit and timestamps their microseconds.
 *
 * Refresh tokens are not exported (a restore signs everyone out); plans are platform data that the
 * target database already has (a tenant's plan code must exist there).
 */
export const BACKUP_FORMAT = 'umi-tenant-backup';
export const BACKUP_VERSION = 1;
// mobile_money_references is an index of the tenant's own payment_attempts (which are exported):
// the pos worker's sweep indexes a restored tenant's open attempts again.
const NOT_EXPORTED = new Set(['shared.refresh_tokens', 'shared.plans', 'shared.system_settings', 'shared.mobile_money_references']);
const BATCH = 500;

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  tenantId: string;
  subdomain: string;
  exportedAt: string;
  /** The tenant schema's applied migrations: a restore rebuilds the schema at exactly this version, loads, then migrates on. */
  tenantMigrations: string[];
  sharedMigrations: string[];
}

export interface BackupSummary {
  header: BackupHeader;
  /** Rows per table (`shared.users`, `tenant.sales`, ...). */
  counts: Record<string, number>;
}

export type Queryable = Pick<ClientBase, 'query'>;

/** The tables of `schema` that hold rows (partitioned parents, not their partitions), in name order. */
async function tablesOf(c: Queryable, schema: string): Promise<string[]> {
  const { rows } = await c.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'umi_migrations'
     ORDER BY c.relname`,
    [schema],
  );
  return rows.map((r) => r.name);
}

/** Shared tables with a `tenant_id` column (every one whose rows belong to a tenant). */
async function sharedTenantTables(c: Queryable): Promise<string[]> {
  const { rows } = await c.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.columns WHERE table_schema = 'shared' AND column_name = 'tenant_id' ORDER BY table_name`,
  );
  return rows.map((r) => r.name).filter((t) => !NOT_EXPORTED.has(`shared.${t}`));
}

/** Columns a restore may write: generated columns are computed again. */
async function writableColumns(c: Queryable, schema: string, table: string): Promise<string[]> {
  const { rows } = await c.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`,
    [schema, table],
  );
  return rows.map((r) => r.name);
}

async function resolveTenant(c: Queryable, ref: string): Promise<{ id: string; subdomain: string; schema_name: string }> {
  const { rows } = await c.query<{ id: string; subdomain: string; schema_name: string }>(
    `SELECT id::text, subdomain, schema_name FROM shared.tenants WHERE subdomain = lower($1) OR id::text = lower($1)`,
    [ref],
  );
  if (!rows[0]) throw new Error(`no tenant ${ref}`);
  return rows[0];
}

/**
 * Writes tenant `ref` (subdomain or id) to `file`. Runs as the database owner in one REPEATABLE
 * READ, READ ONLY transaction, so the file is one consistent moment while the tenant keeps working.
 */
export async function exportTenant(pool: Pool, ref: string, file: string): Promise<BackupSummary> {
  const c = await pool.connect();
  const counts: Record<string, number> = {};
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // The shared tables force row-level security even on their owner: read them as the platform.
    await c.query(`SELECT set_config('app.platform', 'on', true)`);
    const tenant = await resolveTenant(c, ref);
    const schema = assertTenantSchema(tenant.schema_name);
    const migrations = async (s: string) =>
      (await c.query<{ name: string }>(`SELECT name FROM ${quoteIdent(s)}.umi_migrations ORDER BY name`)).rows.map((r) => r.name);
    const header: BackupHeader = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      tenantId: tenant.id,
      subdomain: tenant.subdomain,
      exportedAt: new Date().toISOString(),
      tenantMigrations: await migrations(schema),
      sharedMigrations: await migrations('shared'),
    };
    const sources: { key: string; from: string; where: string }[] = [
      { key: 'shared.tenants', from: 'shared.tenants', where: 'WHERE id = $1::uuid' },
      ...(await sharedTenantTables(c)).map((t) => ({ key: `shared.${t}`, from: `shared.${quoteIdent(t)}`, where: 'WHERE tenant_id = $1::uuid' })),
      ...(await tablesOf(c, schema)).map((t) => ({ key: `tenant.${t}`, from: `${quoteIdent(schema)}.${quoteIdent(t)}`, where: '' })),
    ];
    async function* lines(): AsyncGenerator<string> {
      yield `${JSON.stringify(header)}\n`;
      for (const s of sources) {
        counts[s.key] = 0;
        // A cursor keeps memory flat whatever the table's size.
        await c.query(`DECLARE rows_cur NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS r FROM ${s.from} t ${s.where}`, s.where ? [tenant.id] : []);
        for (;;) {
          const { rows } = await c.query<{ r: string }>(`FETCH ${BATCH} FROM rows_cur`);
          if (rows.length === 0) break;
          counts[s.key] = (counts[s.key] ?? 0) + rows.length;
          yield rows.map((row) => `${s.key}\t${row.r}\n`).join('');
        }
        await c.query('CLOSE rows_cur');
      }
      yield `#end\t${JSON.stringify({ counts })}\n`;
    }
    await pipeline(Readable.from(lines()), createGzip(), createWriteStream(file, { mode: 0o600 }));
    await c.query('COMMIT');
    return { header, counts };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

export interface ImportOptions {
  /** Restore under this subdomain instead of the backup's. */
  subdomain?: string;
  /**
   * Replace the tenant of the same id if it exists (a point-in-time restore of a live tenant): its
   * schema and shared rows are removed in the same transaction, so a failed restore leaves it as it was.
   */
  replace?: boolean;
  /**
   * Restore as a new tenant beside the original (another id, and new ids for its shared rows: branches,
   * users, ...). Field encryption binds ciphertexts to their tenant, so a copy needs `rekey`.
   */
  asCopy?: boolean;
  /**
   * Re-encrypts the copy's encrypted fields from the backup's tenant id to the copy's, inside the
   * restore's transaction (the owners of those fields supply it: pharmacy's `rekeyTenantCopy`).
   */
  rekey?: (client: Queryable, schema: string, fromTenantId: string, toTenantId: string) => Promise<void>;
  appRole: string;
}

const UUID_TEXT = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** Every UUID in a row's text (for rewriting), and a whole value that is one (for collecting ids). */
const UUIDS = new RegExp(UUID_TEXT, 'gi');
const IS_UUID = new RegExp(`^${UUID_TEXT}$`, 'i');

/** Reads a backup file: its header, then its rows grouped by table in file order. */
async function readBackup(file: string): Promise<{ header: BackupHeader; tables: Map<string, string[]>; counts: Record<string, number> }> {
  const rl = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  let header: BackupHeader | null = null;
  let counts: Record<string, number> | null = null;
  const tables = new Map<string, string[]>();
  for await (const line of rl) {
    if (!header) {
      header = JSON.parse(line) as BackupHeader;
      if (header.format !== BACKUP_FORMAT || header.version !== BACKUP_VERSION) throw new Error(`${file} is not a ${BACKUP_FORMAT} v${BACKUP_VERSION} file`);
      continue;
    }
    const tab = line.indexOf('\t');
    const key = line.slice(0, tab);
    if (key === '#end') {
      counts = (JSON.parse(line.slice(tab + 1)) as { counts: Record<string, number> }).counts;
      continue;
    }
    let rows = tables.get(key);
    if (!rows) tables.set(key, (rows = []));
    rows.push(line.slice(tab + 1));
  }
  if (!header || !counts) throw new Error(`${file} is truncated (no header or no end marker)`);
  for (const [key, n] of Object.entries(counts)) {
    if ((tables.get(key)?.length ?? 0) !== n) throw new Error(`${file}: ${key} holds ${tables.get(key)?.length ?? 0} rows, the end marker says ${n}`);
  }
  return { header, tables, counts };
}

/** Removes one tenant completely: its schema and its shared rows (children first). */
async function dropTenant(c: Queryable, id: string, schema: string): Promise<void> {
  await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(assertTenantSchema(schema))} CASCADE`);
  const children = [...(await sharedTenantTables(c)), 'refresh_tokens'];
  // user_branches and refresh tokens reference users and branches: delete them before their parents.
  const order = ['user_branches', 'refresh_tokens', ...children.filter((t) => t !== 'user_branches' && t !== 'refresh_tokens')];
  for (const t of [...new Set(order)]) await c.query(`DELETE FROM shared.${quoteIdent(t)} WHERE tenant_id = $1::uuid`, [id]);
  await c.query('DELETE FROM shared.tenants WHERE id = $1::uuid', [id]);
}

/** Foreign keys of `schema` whose rows point nowhere (a restore checks them, since it loads with triggers off). */
async function danglingReferences(c: Queryable, schema: string): Promise<string[]> {
  const { rows } = await c.query<{ name: string; child: string; parent: string; ccols: string[]; pcols: string[] }>(
    `SELECT con.conname AS name, format('%I.%I', cn.nspname, cc.relname) AS child, format('%I.%I', pn.nspname, pc.relname) AS parent,
            array(SELECT quote_ident(attname) FROM unnest(con.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k.n ORDER BY i) AS ccols,
            array(SELECT quote_ident(attname) FROM unnest(con.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k.n ORDER BY i) AS pcols
     FROM pg_constraint con
     JOIN pg_class cc ON cc.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
     JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
     WHERE con.contype = 'f' AND cn.nspname = $1 AND con.conparentid = 0`,
    [schema],
  );
  // conparentid = 0: a partitioned table's foreign key once, not its clones per partition (a clone
  // that points at one month's partition would call every other month's rows dangling).
  // References by id alone to partitioned sales are triggers, not foreign keys (0010): same check.
  if (await salesArePartitioned(c, schema)) {
    for (const r of SALE_ID_REFERENCES) {
      rows.push({ name: `${r.table}_${r.column}_fkey`, child: `${quoteIdent(schema)}.${quoteIdent(r.table)}`, parent: `${quoteIdent(schema)}.${quoteIdent(r.references)}`, ccols: [quoteIdent(r.column)], pcols: ['id'] });
    }
  }
  const broken: string[] = [];
  for (const fk of rows) {
    const notNull = fk.ccols.map((col) => `c.${col} IS NOT NULL`).join(' AND ');
    const join = fk.ccols.map((col, i) => `p.${fk.pcols[i]} = c.${col}`).join(' AND ');
    const { rows: n } = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${fk.child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${join})`);
    if (n[0]!.n > 0) broken.push(`${fk.name}: ${n[0]!.n} rows`);
  }
  return broken;
}

/** Moves every sequence of `schema` past the rows its tables hold (after loading them). */
async function advanceSequences(c: Queryable, schema: string): Promise<void> {
  await c.query(
    `SELECT setval(s.seq, greatest(coalesce(s.maxval, 0), 1), s.maxval IS NOT NULL) FROM (
       SELECT format('%I.%I', sn.nspname, sc.relname) AS seq,
              (xpath('/row/m/text()', query_to_xml(format('SELECT max(%I) AS m FROM %I.%I', a.attname, tn.nspname, tc.relname), false, true, '')))[1]::text::bigint AS maxval
       FROM pg_depend d
       JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S' JOIN pg_namespace sn ON sn.oid = sc.relnamespace
       JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
       JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = d.refobjsubid
       WHERE d.deptype IN ('a', 'i') AND sn.nspname = $1) s`,
    [schema],
  );
}

async function insertRows(c: Queryable, schema: string, table: string, rows: string[], remap: (row: string) => string): Promise<void> {
  const columns = await writableColumns(c, schema, table);
  if (columns.length === 0) throw new Error(`the target has no table ${schema}.${table}`);
  const list = columns.map(quoteIdent).join(', ');
  const target = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  for (let i = 0; i < rows.length; i += BATCH) {
    const json = `[${rows.slice(i, i + BATCH).map(remap).join(',')}]`;
    await c.query(`INSERT INTO ${target} (${list}) OVERRIDING SYSTEM VALUE SELECT ${list} FROM json_populate_recordset(NULL::${target}, $1::json)`, [json]);
  }
}

/**
 * Restores a backup written by `exportTenant` into the database of `pool` (the owner's), in ONE
 * transaction: the tenant's schema is rebuilt at the backup's migration version, its rows and shared
 * rows loaded with triggers off (`session_replication_role = replica`: the owner must be a superuser
 * or hold `GRANT SET ON PARAMETER session_replication_role`), every foreign key checked, sequences
 * moved past the restored rows, then the schema migrated to the current version. Other tenants'
 * rows are never read or written. Returns the restored tenant's id and subdomain.
 */
export async function importTenant(pool: Pool, file: string, opts: ImportOptions): Promise<{ tenantId: string; subdomain: string; counts: Record<string, number> }> {
  const { header, tables, counts } = await readBackup(file);
  const known = (kind: 'shared' | 'tenant') => new Set(loadMigrations(kind).map((m) => m.name));
  for (const [kind, names] of [['tenant', header.tenantMigrations], ['shared', header.sharedMigrations]] as const) {
    const missing = names.filter((n) => !known(kind).has(n));
    if (missing.length > 0) throw new Error(`the backup needs ${kind} migrations this code does not have: ${missing.join(', ')} (restore with a newer release)`);
  }
  const subdomain = (opts.subdomain ?? header.subdomain).toLowerCase();
  if (!isValidSubdomain(subdomain)) throw new Error(`invalid subdomain ${subdomain}`);
  const schema = tenantSchemaName(subdomain);
  if (opts.asCopy && opts.replace) throw new Error('a copy replaces nothing: choose asCopy or replace');
  if (opts.asCopy && !opts.rekey) throw new Error('a copy needs rekey: encrypted fields are bound to their tenant');

  // Copies get fresh ids for every shared row they own; the ids are UUIDs, so rewriting each one
  // wherever it appears in the tenant's rows moves every reference with it.
  const ids = new Map<string, string>();
  if (opts.asCopy) {
    ids.set(header.tenantId, randomUUID());
    for (const [key, rows] of tables) {
      if (!key.startsWith('shared.') || key === 'shared.tenants') continue;
      for (const row of rows) {
        const id = (JSON.parse(row) as { id?: unknown }).id;
        if (typeof id === 'string' && IS_UUID.test(id)) ids.set(id.toLowerCase(), randomUUID());
      }
    }
  }
  const remap = ids.size === 0 ? (row: string) => row : (row: string) => row.replace(UUIDS, (m) => ids.get(m.toLowerCase()) ?? m);
  const tenantId = ids.get(header.tenantId) ?? header.tenantId;

  const c = await pool.connect();
  try {
    await inTransaction(c, async () => {
      await c.query(`SELECT set_config('app.platform', 'on', true)`);
      await lockTenantSchema(c, schema);
      const clash = await c.query<{ id: string; schema_name: string; subdomain: string }>(
        'SELECT id::text, schema_name, subdomain FROM shared.tenants WHERE id = $1::uuid OR subdomain = $2 OR schema_name = $3',
        [tenantId, subdomain, schema],
      );
      for (const other of clash.rows) {
        if (opts.replace && other.id === tenantId) await dropTenant(c, other.id, other.schema_name);
        else throw new Error(`the target already has tenant ${other.subdomain} (${other.id}): restore with replace (same tenant) or as a copy under a new subdomain`);
      }
      await c.query('SET LOCAL session_replication_role = replica');

      const tenantRow = JSON.parse(remap(tables.get('shared.tenants')![0]!)) as Record<string, unknown>;
      tenantRow.subdomain = subdomain;
      tenantRow.schema_name = schema;
      // The tenants row has no numeric that JSON could round (ints, text, jsonb): parsing it is safe.
      await insertRows(c, 'shared', 'tenants', [JSON.stringify(tenantRow)], (r) => r);
      for (const [key, rows] of tables) {
        if (!key.startsWith('shared.') || key === 'shared.tenants') continue;
        await insertRows(c, 'shared', key.slice('shared.'.length), rows, remap);
      }

      const backupVersion = new Set(header.tenantMigrations);
      await applyMigrations(c, 'tenant', schema, opts.appRole, (name) => backupVersion.has(name));
      // Migrations seed some tables (tax rates, ...): the backup's rows are the truth, seeds included.
      for (const table of await tablesOf(c, schema)) await c.query(`DELETE FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
      // A partitioned schema gets its sales' months first: loaded rows would otherwise land in
      // DEFAULT, and their months could then never be made (0010).
      const saleRows = tables.get('tenant.sales') ?? [];
      if (saleRows.length > 0 && (await salesArePartitioned(c, schema))) {
        let first = Date.now();
        let last = Date.now();
        for (const r of saleRows) {
          const t = Date.parse(/"created_at":"([^"]+)"/.exec(r)?.[1] ?? '');
          if (t < first) first = t;
          if (t > last) last = t;
        }
        await ensureSalePartitions(c, schema, new Date(last), 3, { since: new Date(first) });
      }
      for (const [key, rows] of tables) {
        if (!key.startsWith('tenant.')) continue;
        await insertRows(c, schema, key.slice('tenant.'.length), rows, remap);
      }
      // Sequences (register line numbers, ...) continue after the restored rows.
      await advanceSequences(c, schema);
      const broken = await danglingReferences(c, schema);
      if (broken.length > 0) throw new Error(`the restored rows break foreign keys: ${broken.join('; ')}`);
      await c.query('SET LOCAL session_replication_role = origin');

      if (opts.asCopy) await opts.rekey!(c, schema, header.tenantId, tenantId);
      await applyMigrations(c, 'tenant', schema, opts.appRole);
    });
    return { tenantId, subdomain, counts };
  } finally {
    c.release();
  }
}

/** A table name as an SQL string literal (names come from pg_class, never from input). */
function quoteLiteral(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}

/** Rows per table of `schema` on `c`. */
export async function tenantRowCounts(c: Queryable, schema: string): Promise<Record<string, number>> {
  assertTenantSchema(schema);
  const names = await tablesOf(c, schema);
  if (names.length === 0) return {};
  // One statement for every table: a move counts while the tenant's writes are paused.
  const { rows } = await c.query<{ counts: Record<string, number> }>(
    `SELECT json_build_object(${names.map((t) => `${quoteLiteral(t)}, (SELECT count(*)::int FROM ${quoteIdent(schema)}.${quoteIdent(t)})`).join(', ')}) AS counts`,
  );
  return rows[0]!.counts;
}

/**
 * Copies tenant schema `schema` from `source` to `target` (another server), the way `importTenant`
 * restores one: the schema is built on the target at the source's migration version, the rows
 * are copied as PostgreSQL's own JSON text in batches (a cursor keeps memory flat), triggers off,
 * every foreign key checked, sequences moved past the rows, then the schema is migrated on. Both
 * clients must be inside transactions; `source`'s must keep the rows still meanwhile (the move
 * holds EXCLUSIVE locks on them). The shared rows are not copied: they stay on the primary.
 * Resolves to the rows copied per table.
 */
export async function copyTenantSchema(
  source: Queryable,
  target: Queryable,
  schema: string,
  appRole: string,
  /** Rows per table on the source, when the caller counted them already: empty tables cost no round trip. */
  known?: Record<string, number>,
): Promise<Record<string, number>> {
  assertTenantSchema(schema);
  const version = new Set(
    (await source.query<{ name: string }>(`SELECT name FROM ${quoteIdent(schema)}.umi_migrations`)).rows.map((r) => r.name),
  );
  const missing = [...version].filter((n) => !new Set(loadMigrations('tenant').map((m) => m.name)).has(n));
  if (missing.length > 0) throw new Error(`the schema has migrations this code does not have: ${missing.join(', ')}`);
  await target.query('SET LOCAL session_replication_role = replica');
  await applyMigrations(target as ClientBase, 'tenant', schema, appRole, (name) => version.has(name), 'elsewhere');
  // Migrations seed some tables (tax rates, ...): the source's rows are the truth, seeds included.
  for (const table of await tablesOf(target, schema)) await target.query(`DELETE FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
  // The sales' months first, as a restore does: rows in DEFAULT would keep their months from ever being made.
  if ((!known || (known.sales ?? 0) > 0) && (await salesArePartitioned(target, schema))) {
    const { rows: span } = await source.query<{ first: Date | null; last: Date | null }>(`SELECT min(created_at) AS first, max(created_at) AS last FROM ${quoteIdent(schema)}.sales`);
    if (span[0]?.first && span[0].last) await ensureSalePartitions(target, schema, new Date(Math.max(span[0].last.getTime(), Date.now())), 3, { since: span[0].first });
  }
  const counts: Record<string, number> = {};
  for (const table of await tablesOf(source, schema)) {
    counts[table] = 0;
    if (known && known[table] === 0) continue;
    await source.query(`DECLARE move_cur NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS r FROM ${quoteIdent(schema)}.${quoteIdent(table)} t`);
    for (;;) {
      const { rows } = await source.query<{ r: string }>(`FETCH ${BATCH} FROM move_cur`);
      if (rows.length === 0) break;
      await insertRows(target, schema, table, rows.map((x) => x.r), (r) => r);
      counts[table] += rows.length;
    }
    await source.query('CLOSE move_cur');
  }
  await advanceSequences(target, schema);
  const broken = await danglingReferences(target, schema);
  if (broken.length > 0) throw new Error(`the copied rows break foreign keys: ${broken.join('; ')}`);
  await target.query('SET LOCAL session_replication_role = origin');
  await applyMigrations(target as ClientBase, 'tenant', schema, appRole, undefined, 'elsewhere');
  return counts;
}
