// The SQL migrations are the source of truth for the database; the Prisma schemas describe the same
// tables for the clients. This test migrates a fresh database (shared schema and one tenant schema)
// and checks, for both, that every model maps to a table, every scalar field to a column of the
// same type and nullability, every relation to a foreign key, and that no table or column is left
// without a model or field. Prisma 7's generated client exposes the schema it was generated from
// (inlineSchema) and a runtime data model without nullability, so the schema text is parsed here
// and cross-checked against the runtime data model, which also proves the client is not stale.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { createTestDatabase, TestDatabase } from '@umi/testkit/database';
import { PrismaClient as SharedPrismaClient } from './generated/shared/client';
import { PrismaClient as TenantPrismaClient } from './generated/tenant/client';
import { applyMigrations, inTransaction } from './migrate';
import { SHARED_TABLES, TENANT_TABLES } from './sql';

const PRISMA_DIR = join(__dirname, '../../../prisma');
const TENANT_SCHEMA = 'tenant_drift';
const APP_ROLE = 'umi_app';
/** The runner's bookkeeping table, present in every schema and deliberately not modelled. */
const UNMODELLED_TABLES = new Set(['umi_migrations']);

// ---------- the Prisma side ----------

interface ParsedField {
  name: string;
  type: string;
  optional: boolean;
  list: boolean;
  column: string;
  /** e.g. `Uuid`, `Decimal(14, 2)`, `Timestamptz(3)`; null when the field has no @db attribute. */
  nativeType: string | null;
  dbGeneratedDefault: boolean;
  relation: { fields: string[]; references: string[] } | null;
}

interface ParsedModel {
  name: string;
  table: string;
  fields: ParsedField[];
}

/** Drops `//` comments (including `///` docs) outside string literals. */
function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"' && line[i - 1] !== '\\') inString = !inString;
    else if (!inString && c === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

function listArg(attrs: string, key: string): string[] {
  const m = new RegExp(`${key}:\\s*\\[([^\\]]*)\\]`).exec(attrs);
  return m ? m[1]!.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** A small parser for the subset of the Prisma schema language our schemas use (models, no enums). */
function parsePrismaSchema(text: string): ParsedModel[] {
  const lines = text.split('\n').map(stripComment);
  const raw: { name: string; table: string | null; lines: string[] }[] = [];
  let current: (typeof raw)[number] | null = null;
  for (const line of lines) {
    const t = line.trim();
    if (!current) {
      const m = /^model\s+(\w+)\s*\{$/.exec(t);
      if (m) current = { name: m[1]!, table: null, lines: [] };
      else if (/^(enum|type|view)\s/.test(t)) throw new Error(`drift test does not understand: ${t}`);
      continue;
    }
    if (t === '}') {
      raw.push(current);
      current = null;
    } else if (t.startsWith('@@map(')) {
      current.table = /^@@map\("([^"]+)"\)/.exec(t)![1]!;
    } else if (t && !t.startsWith('@@')) {
      current.lines.push(t);
    }
  }
  const modelNames = new Set(raw.map((m) => m.name));
  return raw.map((m) => ({
    name: m.name,
    table: m.table ?? m.name,
    fields: m.lines.map((l): ParsedField => {
      const fm = /^(\w+)\s+(\w+)(\[\]|\?)?\s*(.*)$/.exec(l);
      if (!fm) throw new Error(`cannot parse field of ${m.name}: ${l}`);
      const [, name, type, modifier, attrs] = fm as unknown as [string, string, string, string | undefined, string];
      const relationAttr = /@relation\(([^)]*)\)/.exec(attrs)?.[1];
      const isModel = modelNames.has(type);
      return {
        name,
        type,
        optional: modifier === '?',
        list: modifier === '[]',
        column: /@map\("([^"]+)"\)/.exec(attrs)?.[1] ?? name,
        nativeType: /@db\.(\w+(?:\([^)]*\))?)/.exec(attrs)?.[1] ?? null,
        dbGeneratedDefault: /@default\((dbgenerated|autoincrement|sequence)\(/.test(attrs),
        relation: isModel
          ? { fields: listArg(relationAttr ?? '', 'fields'), references: listArg(relationAttr ?? '', 'references') }
          : null,
      };
    }),
  }));
}

const SCALARS = new Set(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes']);

/** The column type, as PostgreSQL's format_type() spells it, that a Prisma scalar field maps to. */
function expectedColumnType(f: ParsedField): string {
  const native = f.nativeType?.replace(/\s+/g, '') ?? null;
  const args = native ? (/\(([^)]*)\)/.exec(native)?.[1] ?? null) : null;
  const kind = native ? native.replace(/\(.*$/, '') : null;
  let base: string | undefined;
  const key = `${f.type}:${kind ?? ''}`;
  switch (key) {
    case 'String:':
    case 'String:Text': base = 'text'; break;
    case 'String:Uuid': base = 'uuid'; break;
    case 'String:Char': base = `character(${args ?? '1'})`; break;
    case 'String:VarChar': base = args ? `character varying(${args})` : 'character varying'; break;
    case 'Int:':
    case 'Int:Integer': base = 'integer'; break;
    case 'Int:SmallInt': base = 'smallint'; break;
    case 'BigInt:':
    case 'BigInt:BigInt': base = 'bigint'; break;
    case 'Float:':
    case 'Float:DoublePrecision': base = 'double precision'; break;
    case 'Decimal:': base = 'numeric(65,30)'; break;
    case 'Decimal:Decimal': base = args ? `numeric(${args})` : 'numeric'; break;
    case 'Boolean:':
    case 'Boolean:Boolean': base = 'boolean'; break;
    case 'Json:':
    case 'Json:JsonB': base = 'jsonb'; break;
    case 'Json:Json': base = 'json'; break;
    case 'Bytes:': base = 'bytea'; break;
    case 'DateTime:': base = 'timestamp(3) without time zone'; break;
    case 'DateTime:Date': base = 'date'; break;
    case 'DateTime:Timestamptz': base = args ? `timestamp(${args}) with time zone` : 'timestamp with time zone'; break;
    case 'DateTime:Timestamp': base = args ? `timestamp(${args}) without time zone` : 'timestamp without time zone'; break;
  }
  if (!base) throw new Error(`drift test has no mapping for ${f.type} @db.${f.nativeType ?? ''}`);
  return f.list ? `${base}[]` : base;
}

interface RuntimeField { name: string; kind: string; type: string; dbName?: string | null }
interface RuntimeModel { dbName: string | null; fields: RuntimeField[] }
interface ClientInternals {
  _engineConfig: { inlineSchema: string };
  _runtimeDataModel: { models: Record<string, RuntimeModel> };
  $disconnect(): Promise<void>;
}

/**
 * The models of a generated client: its inlineSchema parsed, after checking that it is the schema
 * file on disk and that it agrees with the client's runtime data model.
 */
async function modelsOf(
  Client: new (options: { adapter: PrismaPg }) => unknown,
  schemaFile: string,
  url: string,
): Promise<ParsedModel[]> {
  // The adapter connects lazily; constructing the client opens no connection.
  const client = new Client({ adapter: new PrismaPg({ connectionString: url }) }) as ClientInternals;
  try {
    const inline = client._engineConfig.inlineSchema;
    const onDisk = readFileSync(join(PRISMA_DIR, schemaFile), 'utf8');
    // Generation may re-align columns; only the tokens have to be the same.
    const tokens = (s: string) => s.replace(/\s+/g, ' ').trim();
    if (tokens(inline) !== tokens(onDisk)) throw new Error(`generated client is stale for prisma/${schemaFile}: run npm run generate`);
    const models = parsePrismaSchema(inline);
    const runtime = client._runtimeDataModel.models;
    expect(Object.keys(runtime).sort()).toEqual(models.map((m) => m.name).sort());
    for (const m of models) {
      const rm = runtime[m.name]!;
      expect({ model: m.name, table: rm.dbName ?? m.name }).toEqual({ model: m.name, table: m.table });
      const rtScalars = rm.fields.filter((f) => f.kind === 'scalar').map((f) => `${f.name}:${f.type}:${f.dbName ?? f.name}`);
      const parsed = m.fields.filter((f) => !f.relation).map((f) => `${f.name}:${f.type}:${f.column}`);
      expect({ model: m.name, scalars: parsed.sort() }).toEqual({ model: m.name, scalars: rtScalars.sort() });
    }
    return models;
  } finally {
    await client.$disconnect();
  }
}

// ---------- the database side ----------

interface Column { type: string; nullable: boolean; hasDefault: boolean }
interface ForeignKey { table: string; refTable: string; pairs: string[] }

async function tablesOf(pool: Pool, schema: string): Promise<Map<string, Map<string, Column>>> {
  const { rows } = await pool.query<{ table: string; column: string; type: string; not_null: boolean; has_default: boolean }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null, a.atthasdef AS has_default
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const tables = new Map<string, Map<string, Column>>();
  for (const r of rows) {
    if (!tables.has(r.table)) tables.set(r.table, new Map());
    tables.get(r.table)!.set(r.column, { type: r.type, nullable: !r.not_null, hasDefault: r.has_default });
  }
  return tables;
}

async function foreignKeysOf(pool: Pool, schema: string): Promise<ForeignKey[]> {
  const { rows } = await pool.query<{ table: string; ref_table: string; pairs: string[] }>(
    `SELECT c.relname AS table, r.relname AS ref_table,
            array_agg(a.attname || '->' || ra.attname ORDER BY k.i) AS pairs
       FROM pg_constraint con
       JOIN pg_class c ON c.oid = con.conrelid
       JOIN pg_class r ON r.oid = con.confrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(col, refcol, i)
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col
       JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refcol
      WHERE con.contype = 'f' AND n.nspname = $1 AND con.conparentid = 0
      GROUP BY con.oid, c.relname, r.relname`,
    [schema],
  );
  return rows.map((r) => ({ table: r.table, refTable: r.ref_table, pairs: r.pairs }));
}

// ---------- the comparison ----------

/** Every disagreement between the models and the schema, as readable lines (empty: no drift). */
async function drift(pool: Pool, schema: string, models: ParsedModel[]): Promise<string[]> {
  const problems: string[] = [];
  const tables = await tablesOf(pool, schema);
  const fks = await foreignKeysOf(pool, schema);
  const byName = new Map(models.map((m) => [m.name, m]));

  for (const m of models) {
    const columns = tables.get(m.table);
    if (!columns) {
      problems.push(`model ${m.name}: table ${schema}.${m.table} does not exist`);
      continue;
    }
    const covered = new Set<string>();
    for (const f of m.fields) {
      if (f.relation) continue;
      if (!SCALARS.has(f.type)) {
        problems.push(`${m.name}.${f.name}: type ${f.type} is neither a scalar nor a model`);
        continue;
      }
      const where = `${m.name}.${f.name} -> ${m.table}.${f.column}`;
      const col = columns.get(f.column);
      if (!col) {
        problems.push(`${where}: column does not exist`);
        continue;
      }
      covered.add(f.column);
      const expected = expectedColumnType(f);
      if (col.type !== expected) problems.push(`${where}: column is ${col.type}, model says ${expected}`);
      // Prisma lists cannot be optional, so a list column must be NOT NULL.
      const shouldBeNullable = f.optional;
      if (col.nullable !== shouldBeNullable) {
        problems.push(`${where}: column is ${col.nullable ? 'NULL' : 'NOT NULL'}, field is ${f.optional ? 'optional' : 'required'}`);
      }
      // The client leaves a dbgenerated() field out of INSERTs, so the column must have a default.
      if (f.dbGeneratedDefault && !col.hasDefault) problems.push(`${where}: @default(dbgenerated()) but the column has no default`);
    }
    for (const column of columns.keys()) {
      if (!covered.has(column)) problems.push(`table ${m.table}: column ${column} has no field in model ${m.name}`);
    }
    // Each relation that holds the foreign key must be backed by a real one (which may be wider,
    // e.g. the ledgers' composite keys that also pin branch and product to the batch's).
    for (const f of m.fields) {
      if (!f.relation || f.relation.fields.length === 0) continue;
      const target = byName.get(f.type);
      if (!target) continue;
      const pairs = f.relation.fields.map((field, i) => {
        const local = m.fields.find((x) => x.name === field)?.column ?? field;
        const ref = target.fields.find((x) => x.name === f.relation!.references[i])?.column ?? f.relation!.references[i];
        return `${local}->${ref}`;
      });
      const backed = fks.some((fk) => fk.table === m.table && fk.refTable === target.table && pairs.every((p) => fk.pairs.includes(p)));
      if (!backed) problems.push(`${m.name}.${f.name}: no foreign key ${m.table}(${pairs.join(', ')}) -> ${target.table}`);
    }
  }

  const modelled = new Set(models.map((m) => m.table));
  for (const table of tables.keys()) {
    if (!modelled.has(table) && !UNMODELLED_TABLES.has(table)) problems.push(`table ${schema}.${table} has no model`);
  }
  return problems;
}

describe('Prisma schemas agree with the migrated database', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    const client = await db.pool.connect();
    try {
      await inTransaction(client, () => applyMigrations(client, 'tenant', TENANT_SCHEMA, APP_ROLE));
    } finally {
      client.release();
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('shared: prisma/shared.prisma matches the shared schema', async () => {
    const models = await modelsOf(SharedPrismaClient, 'shared.prisma', db.url);
    expect(models.length).toBeGreaterThan(0);
    expect(await drift(db.pool, 'shared', models)).toEqual([]);
  });

  it('tenant: prisma/tenant.prisma matches a migrated tenant schema', async () => {
    const models = await modelsOf(TenantPrismaClient, 'tenant.prisma', db.url);
    expect(models.length).toBeGreaterThan(0);
    expect(await drift(db.pool, TENANT_SCHEMA, models)).toEqual([]);
  });

  it('tagged SQL knows every migrated table of both schemas, and no other (packages/db/src/sql.ts)', async () => {
    const tablesOf = async (schema: string) =>
      (
        await db.pool.query<{ t: string }>(
          // Partitions (sales_2026_11, ...) are storage of their parent table, not tables of their own.
          `SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
          [schema],
        )
      ).rows
        .map((r) => r.t)
        .filter((t) => !UNMODELLED_TABLES.has(t));
    expect([...TENANT_TABLES].sort()).toEqual(await tablesOf(TENANT_SCHEMA));
    expect([...SHARED_TABLES].sort()).toEqual(await tablesOf('shared'));
  });

  it('notices drift: unknown column, changed type, lost NOT NULL, missing foreign key, unmodelled table', async () => {
    const models = await modelsOf(TenantPrismaClient, 'tenant.prisma', db.url);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`ALTER TABLE ${TENANT_SCHEMA}.sales ADD COLUMN drift_probe text`);
      await client.query(`ALTER TABLE ${TENANT_SCHEMA}.sales ALTER COLUMN total_amount TYPE numeric(12,2)`);
      await client.query(`ALTER TABLE ${TENANT_SCHEMA}.sales ALTER COLUMN cashier_id DROP NOT NULL`);
      await client.query(`ALTER TABLE ${TENANT_SCHEMA}.sale_items DROP CONSTRAINT sale_items_sale_id_fkey`);
      await client.query(`CREATE TABLE ${TENANT_SCHEMA}.drift_orphan (id uuid PRIMARY KEY)`);
      const problems = await drift(client as unknown as Pool, TENANT_SCHEMA, models);
      expect(problems).toEqual(
        expect.arrayContaining([
          'table sales: column drift_probe has no field in model Sale',
          'Sale.totalAmount -> sales.total_amount: column is numeric(12,2), model says numeric(14,2)',
          'Sale.cashierId -> sales.cashier_id: column is NULL, field is required',
          'SaleItem.sale: no foreign key sale_items(sale_id->id, sale_created_at->created_at) -> sales',
          `table ${TENANT_SCHEMA}.drift_orphan has no model`,
        ]),
      );
      expect(problems).toHaveLength(5);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
