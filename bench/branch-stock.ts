/**
 * Branch stock: latency of the contract's `BranchStock` query through the gateway, for one branch
 * holding 2,000 batches of 500 products, beside the same read sent straight to the inventory
 * subgraph (an `_entities` request with an internal token, bypassing the gateway and the tenant
 * subgraph) and the same answer read with one hand-written SQL query over `pg` (the floor), at each
 * requested concurrency, from one run.
 *
 *   npx tsx bench/branch-stock.ts [--requests 500] [--concurrency 1,8] [--warmup 50] [--block 50]
 *
 * Uses DATABASE_URL (a PostgreSQL admin URL) when set, otherwise an embedded PostgreSQL.
 */
import http from 'node:http';
import type { Pool } from 'pg';
import { operation } from '@umi/clients';
import { tenantSchemaName, quoteIdent } from '@umi/db';
import { INTERNAL_HEADER } from '@umi/kit';
import { createTenant } from '@umi/testkit';
import { blockOptions, inPoolTransaction, internalTokenSource, measure, out, outHeader, outStatsTable, postGraphql, principalOf, runMain, stringOptions, tableIn, timed, withPlatform, type InternalTokenSource, type Timed } from './lib';

/** What the gateway sends the inventory subgraph for `Branch.stock` once it has the branch from the tenant subgraph. */
const ENTITY_STOCK =
  'query($r: [_Any!]!) { _entities(representations: $r) { ... on Branch { stock { product { id sku name } quantityOnHand quantityAvailable reorderLevel lowStock } } } }';

const PRODUCTS = 500;
const BATCHES_PER_PRODUCT = 4;

const PATHS = ['gateway', 'subgraph', 'sql'] as const;
type PathName = (typeof PATHS)[number];

/** One row of the answer, in the shape all paths are compared in. */
interface StockLine {
  productId: string;
  sku: string;
  name: string;
  quantityOnHand: number;
  quantityAvailable: number;
  reorderLevel: number;
  lowStock: boolean;
}

interface GatewayStock {
  product: { id: string; sku: string; name: string };
  quantityOnHand: number;
  quantityAvailable: number;
  reorderLevel: number;
  lowStock: boolean;
}

interface BranchStockData {
  branch: { id: string; code: string; stock: GatewayStock[] } | null;
}

interface EntityStockData {
  _entities: ({ stock?: GatewayStock[] } | null)[];
}

/** Runs the read once and resolves to the rows it returned; throws on any bad answer. */
type Read = () => Promise<StockLine[]>;

function options() {
  const values = stringOptions({ requests: '500', concurrency: '1,8', warmup: '50', block: '50' });
  return blockOptions(values);
}

// Drug stems, strengths and forms chosen so that names sort the same under JavaScript's
// localeCompare (the subgraph's order) and any PostgreSQL collation (the floor's ORDER BY): no stem
// is a prefix of another, no punctuation, and capitals only where every name has them.
const STEMS = [
  'Aciclovir', 'Albendazole', 'Amlodipine', 'Amoxicillin', 'Artemether', 'Atenolol', 'Azithromycin', 'Captopril',
  'Cetirizine', 'Ciprofloxacin', 'Clotrimazole', 'Diclofenac', 'Doxycycline', 'Enalapril', 'Fluconazole', 'Furosemide',
  'Glibenclamide', 'Hydrochlorothiazide', 'Ibuprofen', 'Losartan', 'Metformin', 'Metronidazole', 'Nifedipine', 'Omeprazole',
  'Paracetamol',
];
const STRENGTHS = ['5mg', '10mg', '25mg', '50mg', '100mg', '250mg', '500mg', '750mg', '1000mg', '2000mg'];
const FORMS = ['Capsules', 'Tablets'];

/** 500 distinct products: every stem at every strength in both forms. */
function productFixtures(): { sku: string; name: string; genericName: string }[] {
  const list: { sku: string; name: string; genericName: string }[] = [];
  for (const stem of STEMS) {
    for (const strength of STRENGTHS) {
      for (const form of FORMS) {
        list.push({ sku: `BENCH-${String(list.length + 1).padStart(4, '0')}`, name: `${stem} ${strength} ${form}`, genericName: stem.toLowerCase() });
      }
    }
  }
  if (list.length !== PRODUCTS) throw new Error(`product fixture has ${list.length} products, expected ${PRODUCTS}`);
  return list;
}

/**
 * Writes the branch's stock straight into the tenant schema with the owner pool: this is fixture
 * data, and 2,000 receipts through the API would take longer than the measurement. Set-based
 * statements in one transaction, and one GRN movement per batch that holds stock so that the
 * ledger invariant (on hand = sum of the batch's movements) holds as it would after real receipts.
 */
async function seedStock(pool: Pool, schema: string, branchId: string): Promise<void> {
  const t = tableIn(schema);
  const products = productFixtures();
  await inPoolTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO ${t('products')} (sku, name, generic_name)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
      [products.map((p) => p.sku), products.map((p) => p.name), products.map((p) => p.genericName)],
    );
    // Expiry starts two days out: the subgraph judges expiry against the branch's own calendar date
    // (its time zone), the floor against CURRENT_DATE, and no time zone is two days away from UTC.
    // About one batch in twenty-five expires within 30 days, and one in twenty is ON_HOLD, so that
    // available differs from on hand the way it does in a real pharmacy.
    await client.query(
      `INSERT INTO ${t('inventory_batches')}
         (branch_id, product_id, batch_number, expiry_date, quantity_on_hand, cost_price, selling_price, status)
       SELECT $1::uuid, p.id, p.sku || '-B' || n,
         CURRENT_DATE + 2 + floor(random() * 720)::int,
         floor(random() * 201)::int,
         c.cost, round(c.cost * 1.35, 2),
         CASE WHEN random() < 0.05 THEN 'ON_HOLD' ELSE 'AVAILABLE' END
       FROM ${t('products')} p
       CROSS JOIN generate_series(1, $2::int) AS n
       CROSS JOIN LATERAL (SELECT round((1 + random() * 99)::numeric, 2) AS cost) c
       WHERE p.sku LIKE 'BENCH-%'`,
      [branchId, BATCHES_PER_PRODUCT],
    );
    await client.query(
      `INSERT INTO ${t('stock_movements')} (branch_id, product_id, batch_id, type, quantity, balance_after, reference)
       SELECT branch_id, product_id, id, 'GRN', quantity_on_hand, quantity_on_hand, 'BENCH'
       FROM ${t('inventory_batches')}
       WHERE branch_id = $1::uuid AND quantity_on_hand > 0`,
      [branchId],
    );
    // Reorder levels around the typical available quantity (4 batches of 0..200), so that lowStock
    // is true for a fair share of the rows rather than for none or all.
    await client.query(
      `INSERT INTO ${t('product_branch_settings')} (product_id, branch_id, reorder_level, reorder_quantity)
       SELECT id, $1::uuid, floor(random() * 500)::int, 100
       FROM ${t('products')} WHERE sku LIKE 'BENCH-%'`,
      [branchId],
    );
  });
  // Fresh tables have no statistics; without them the first plans would be guesses.
  await pool.query(`ANALYZE ${t('products')}, ${t('inventory_batches')}, ${t('product_branch_settings')}`);
}

/**
 * The floor: the BranchStock answer in one statement. Same semantics as the inventory subgraph
 * (products with batches or settings at the branch; available = AVAILABLE, unexpired batches less
 * reservations; low stock = available at or below the reorder level; by name, then id).
 */
function floorSql(schema: string): string {
  const t = tableIn(schema);
  return `
    WITH b AS (
      SELECT product_id,
        sum(quantity_on_hand)::int AS on_hand,
        coalesce(sum(quantity_on_hand - quantity_reserved) FILTER (WHERE status = 'AVAILABLE' AND expiry_date > CURRENT_DATE), 0)::int AS available
      FROM ${t('inventory_batches')} WHERE branch_id = $1::uuid
      GROUP BY product_id
    ), s AS (
      SELECT product_id, reorder_level FROM ${t('product_branch_settings')} WHERE branch_id = $1::uuid
    )
    SELECT p.id::text AS product_id, p.sku, p.name,
      coalesce(b.on_hand, 0) AS on_hand,
      coalesce(b.available, 0) AS available,
      coalesce(s.reorder_level, 0) AS reorder_level,
      coalesce(b.available, 0) <= coalesce(s.reorder_level, 0) AS low_stock
    FROM b FULL JOIN s USING (product_id)
    JOIN ${t('products')} p ON p.id = product_id
    ORDER BY p.name, p.id`;
}

interface FloorRow {
  product_id: string;
  sku: string;
  name: string;
  on_hand: number;
  available: number;
  reorder_level: number;
  low_stock: boolean;
}

function sqlRead(pool: Pool, schema: string, branchId: string, expectedRows: number | null): Read {
  const text = floorSql(schema);
  return async () => {
    const { rows } = await pool.query<FloorRow>(text, [branchId]);
    if (expectedRows !== null && rows.length !== expectedRows) throw new Error(`sql: ${rows.length} rows, expected ${expectedRows}`);
    return rows.map((r) => ({
      productId: r.product_id,
      sku: r.sku,
      name: r.name,
      quantityOnHand: r.on_hand,
      quantityAvailable: r.available,
      reorderLevel: r.reorder_level,
      lowStock: r.low_stock,
    }));
  };
}

/** Checks one GraphQL answer's stock list and turns it into rows; throws on errors or a missing list. */
function stockLines(name: PathName, status: number | undefined, text: string, errors: unknown[] | undefined, stock: GatewayStock[] | undefined, expectedRows: number | null): StockLine[] {
  if (status !== 200 || errors?.length || !Array.isArray(stock)) throw new Error(`${name}: HTTP ${status}, bad answer: ${text.slice(0, 1000)}`);
  if (expectedRows !== null && stock.length !== expectedRows) throw new Error(`${name}: ${stock.length} stock rows, expected ${expectedRows}`);
  return stock.map((s) => ({
    productId: s.product.id,
    sku: s.product.sku,
    name: s.product.name,
    quantityOnHand: s.quantityOnHand,
    quantityAvailable: s.quantityAvailable,
    reorderLevel: s.reorderLevel,
    lowStock: s.lowStock,
  }));
}

/** Sends BranchStock once to the gateway; throws unless the answer has the branch, its stock and no errors. */
function gatewayRead(url: URL, token: string, agent: http.Agent, branchId: string, expectedRows: number | null): Read {
  const body = JSON.stringify({ operationName: 'BranchStock', query: operation('BranchStock'), variables: { branchId } });
  const headers = { authorization: `Bearer ${token}` };
  return async () => {
    const r = await postGraphql<BranchStockData>('gateway', url, agent, headers, body);
    return stockLines('gateway', r.status, r.text, r.parsed.errors, r.parsed.data?.branch?.stock, expectedRows);
  };
}

/**
 * Sends the gateway's inventory fetch for `Branch.stock` once, straight to the inventory subgraph;
 * throws unless the answer has exactly the one entity, its stock and no errors.
 */
function subgraphRead(url: URL, tokens: InternalTokenSource, agent: http.Agent, branchId: string, expectedRows: number | null): Read {
  const body = JSON.stringify({ query: ENTITY_STOCK, variables: { r: [{ __typename: 'Branch', id: branchId }] } });
  return async () => {
    const r = await postGraphql<EntityStockData>('subgraph', url, agent, { [INTERNAL_HEADER]: await tokens.current() }, body);
    const entities = r.parsed.data?._entities;
    if (!Array.isArray(entities) || entities.length !== 1) throw new Error(`subgraph: HTTP ${r.status}, bad answer: ${r.text.slice(0, 1000)}`);
    return stockLines('subgraph', r.status, r.text, r.parsed.errors, entities[0]?.stock, expectedRows);
  };
}

const sumOnHand = (rows: StockLine[]) => rows.reduce((n, r) => n + r.quantityOnHand, 0);

/**
 * Aborts unless two paths give the same answer: a path that reads something else measures
 * nothing. Beyond the row count and the on-hand total, compares every row in order, so that a
 * semantic drift (available, low stock, order) is caught rather than timed.
 */
function verify(aName: PathName, a: StockLine[], bName: PathName, b: StockLine[]): void {
  if (a.length !== PRODUCTS) throw new Error(`verification: ${aName} returned ${a.length} stock rows, expected ${PRODUCTS}`);
  if (b.length !== PRODUCTS) throw new Error(`verification: ${bName} returned ${b.length} stock rows, expected ${PRODUCTS}`);
  const sa = sumOnHand(a);
  const sb = sumOnHand(b);
  if (sa !== sb) throw new Error(`verification: quantityOnHand total differs: ${aName} ${sa}, ${bName} ${sb}`);
  const fields: (keyof StockLine)[] = ['productId', 'sku', 'name', 'quantityOnHand', 'quantityAvailable', 'reorderLevel', 'lowStock'];
  for (let i = 0; i < PRODUCTS; i++) {
    const x = a[i] as StockLine;
    const y = b[i] as StockLine;
    const field = fields.find((f) => x[f] !== y[f]);
    if (field) throw new Error(`verification: row ${i} differs in ${field}: ${aName} ${JSON.stringify(x)}, ${bName} ${JSON.stringify(y)}`);
  }
}

async function main(): Promise<void> {
  const opts = options();
  const maxConcurrency = Math.max(...opts.concurrency);
  outHeader(`requests per path per concurrency: ${opts.requests}, warm-up: ${opts.warmup} per path, block: ${opts.block}`);

  await withPlatform('branch-stock', async (p, own) => {
    const tenant = await createTenant(p, { branchCount: 1 });
    const branch = tenant.branches[0];
    if (!branch) throw new Error('createTenant returned no branch');
    const schema = tenantSchemaName(tenant.subdomain);
    await seedStock(p.db.pool, schema, branch.id);

    // Its own pool, sized to the highest concurrency, so the floor is never queued behind the
    // owner pool's four connections or behind the platform's own queries.
    const sqlPool = own.pool(maxConcurrency);
    const gatewayAgent = own.agent(maxConcurrency);
    const subgraphAgent = own.agent(maxConcurrency);
    const gatewayUrl = new URL(p.url);
    if (!p.env.INVENTORY_URL) throw new Error('platform did not report INVENTORY_URL');
    const subgraphUrl = new URL(p.env.INVENTORY_URL);

    // The subgraph path acts for the same ADMIN as the gateway path: the principal is the one the
    // gateway reads from the ADMIN's access token, built as gateway-overhead.ts builds it.
    const principal = await principalOf(p, tenant.adminToken);
    const internal = internalTokenSource(p, principal, 'inventory');
    const beforeBlock = async (name: PathName): Promise<void> => {
      if (name === 'subgraph') await internal.refresh();
    };

    await beforeBlock('subgraph');
    const first = {
      gateway: await gatewayRead(gatewayUrl, tenant.adminToken, gatewayAgent, branch.id, null)(),
      subgraph: await subgraphRead(subgraphUrl, internal, subgraphAgent, branch.id, null)(),
      sql: await sqlRead(sqlPool, schema, branch.id, null)(),
    };
    verify('gateway', first.gateway, 'sql', first.sql);
    verify('subgraph', first.subgraph, 'gateway', first.gateway);
    const batches = await p.db.pool.query<{ n: number; held: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE quantity_on_hand > 0)::int AS held FROM ${quoteIdent(schema)}.inventory_batches WHERE branch_id = $1::uuid`,
      [branch.id],
    );
    const low = first.sql.filter((r) => r.lowStock).length;
    out(
      `fixture: branch ${branch.code}, ${PRODUCTS} products, ${batches.rows[0]?.n ?? 0} batches (${batches.rows[0]?.held ?? 0} holding stock), ` +
        `on hand ${sumOnHand(first.sql)}, ${low} rows low on stock; gateway, subgraph and sql answers identical`,
    );
    out('');

    const reads: Record<PathName, Timed> = {
      gateway: timed(gatewayRead(gatewayUrl, tenant.adminToken, gatewayAgent, branch.id, PRODUCTS)),
      subgraph: timed(subgraphRead(subgraphUrl, internal, subgraphAgent, branch.id, PRODUCTS)),
      sql: timed(sqlRead(sqlPool, schema, branch.id, PRODUCTS)),
    };
    const results = await measure(PATHS, reads, opts, beforeBlock);

    outStatsTable(PATHS, results, { count: 'requests', rate: 'req/s', rateDigits: 0, widths: [12, 8, 9, 8, 8, 8] });
    out('');
    const pairs: [PathName, PathName][] = [
      ['gateway', 'sql'],
      ['subgraph', 'sql'],
      ['gateway', 'subgraph'],
    ];
    for (const { concurrency, r } of results) {
      for (const [a, b] of pairs) {
        const x = r[a];
        const y = r[b];
        out(
          `concurrency ${concurrency}: ${`${a}/${b}`.padEnd(16)} p50 = ${(x.p50 / y.p50).toFixed(2)}x, p95 = ${(x.p95 / y.p95).toFixed(2)}x, ` +
            `throughput = ${(x.rps / y.rps).toFixed(2)}x`,
        );
      }
    }
  });
}

runMain('branch-stock', main);
